import Foundation
import Testing
@testable import VigilMQTT

/// The structs are the single source of the JSON; these tests hold them to docs/schemas (the
/// Python check validates whole messages with jsonschema; here the top-level fields must match).
@Suite struct PayloadTests {
    let now = Date(timeIntervalSince1970: 1_795_430_193.5)
    let model = ModelInfo(id: "ecg-rhythm", version: "1.0.0", digest: "sha256:00ff")

    func schema(_ name: String) throws -> (properties: Set<String>, required: Set<String>) {
        let url = repositoryRoot.appendingPathComponent("docs/schemas/\(name).schema.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return (Set((object["properties"] as! [String: Any]).keys), Set(object["required"] as! [String]))
    }

    func keys(_ payload: some MQTTPayload) throws -> Set<String> {
        Set((try JSONSerialization.jsonObject(with: payload.jsonData()) as! [String: Any]).keys)
    }

    func expectMatches(_ payload: some MQTTPayload, schema name: String, full: Bool) throws {
        let (properties, required) = try schema(name)
        let present = try keys(payload)
        #expect(present.isSubset(of: properties), "\(name): fields not in the schema: \(present.subtracting(properties))")
        #expect(required.isSubset(of: present), "\(name): required fields missing: \(required.subtracting(present))")
        if full { #expect(present == properties, "\(name): schema fields never produced: \(properties.subtracting(present))") }
    }

    @Test func everyPayloadMatchesItsSchema() throws {
        let condition = AlertCondition(kind: .model, code: "af_probable", source: "ecg-rhythm")
        try expectMatches(StatusPayload(state: .online, reason: .startup, time: now, softwareVersion: "1", uptimeSeconds: 2,
                                        models: [model], health: .init(overall: .ok)), schema: "status", full: true)
        try expectMatches(StatusPayload(state: .offline, reason: .connectionLost, time: now, softwareVersion: "1",
                                        uptimeSeconds: 0), schema: "status", full: false)
        try expectMatches(VitalPayload(kind: "spo2", value: 97, unit: "%", time: now, quality: 1, source: "ppg"),
                          schema: "vital", full: true)
        try expectMatches(PredictionPayload(model: model, label: "af", score: 0.9, scores: [.init(label: "af", score: 0.9)],
                                            windowStart: now, windowEnd: now, signalQuality: 0.8, inferenceMicroseconds: 61),
                          schema: "prediction", full: true)
        try expectMatches(AlertEventPayload(eventID: 1, alarmID: 2, sequence: 2, time: now, priority: .high, condition: condition,
                                            previousState: .active, state: .silenced, reason: .silenced, message: "m",
                                            value: 1, threshold: 0.8, unit: "1", model: model, silencedUntil: now),
                          schema: "alert-event", full: true)
        try expectMatches(AlertEventPayload(eventID: 1, alarmID: 2, sequence: 1, time: now, priority: .low, condition: condition,
                                            previousState: nil, state: .active, reason: .conditionMet, message: "m"),
                          schema: "alert-event", full: false)
        try expectMatches(ActiveAlertsPayload(time: now, alarms: []), schema: "active-alerts", full: true)
        try expectMatches(WaveformPayload(channel: "ecg", sequence: 9, rateHz: 250, start: now, unit: "mV", samples: [0.5]),
                          schema: "waveform", full: true)
        try expectMatches(CommandReplyPayload(requestID: "r", command: "ack", status: .rejected,
                                              error: .init(code: "x", detail: "y"), time: now), schema: "command-reply", full: true)
    }

    @Test func exactJSONForAnAlertEvent() throws {
        let event = AlertEventPayload(eventID: 41, alarmID: 7, sequence: 1, time: now, priority: .medium,
                                      condition: AlertCondition(kind: .physiological, code: "hr_high", source: "hr"),
                                      previousState: nil, state: .active, reason: .conditionMet, message: "HR 135 /min")
        let text = String(decoding: try event.jsonData(), as: UTF8.self)
        #expect(text == #"{"alarm_id":7,"condition":{"code":"hr_high","kind":"physiological","source":"hr"},"event_id":41,"message":"HR 135 /min","priority":"medium","reason":"condition_met","sequence":1,"state":"active","time":"2026-11-23T10:36:33.500Z"}"#)
        #expect(try PayloadCoding.decode(AlertEventPayload.self, from: event.jsonData()) == event)
    }

    @Test func timesAreRFC3339UTCWithMilliseconds() {
        #expect(PayloadCoding.rfc3339(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(PayloadCoding.rfc3339(Date(timeIntervalSince1970: 951_782_400.007)) == "2000-02-29T00:00:00.007Z")
        #expect(PayloadCoding.rfc3339(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59.750Z")
        #expect(PayloadCoding.parseRFC3339("2000-02-29T00:00:00.007Z")!.timeIntervalSince1970 == 951_782_400.007)
    }

    @Test func nonFiniteValuesAreRefusedNotPublished() {
        let vital = VitalPayload(kind: "hr", value: .nan, unit: "/min", time: now, quality: 1, source: "ecg")
        #expect(throws: MQTTError.self) { try vital.jsonData() }
    }
}

@Suite struct CommandParserTests {
    let parser = CommandParser(maxSilenceSeconds: 120)

    func parse(_ name: String, _ json: String) -> Result<VigilCommand, CommandRejection> {
        do throws(CommandRejection) {
            return .success(try parser.parse(name: name, payload: Data(json.utf8)))
        } catch {
            return .failure(error)
        }
    }

    @Test func validCommands() throws {
        #expect(try parse("ack", #"{"request_id":"r1","alarm_id":7}"#).get()
            == .acknowledge(AcknowledgeCommand(requestID: "r1", alarmID: 7)))
        #expect(try parse("silence", #"{"request_id":"r2","alarm_id":7,"duration_s":120,"operator":"n4"}"#).get()
            == .silence(SilenceCommand(requestID: "r2", alarmID: 7, durationSeconds: 120, operatorID: "n4")))
        #expect(try parse("reload", #"{"request_id":"r3","model_id":"ecg-rhythm"}"#).get()
            == .reload(ReloadCommand(requestID: "r3", modelID: "ecg-rhythm")))
    }

    static let malformed: [(String, String, String)] = [
        ("ack", #"{"request_id":"r","alarm_id":7,"extra":1}"#, "unknown_field"),
        ("ack", #"{"request_id":"r"}"#, "missing_field"),
        ("ack", #"{"alarm_id":7}"#, "missing_field"),
        ("ack", #"{"request_id":"r","alarm_id":"7"}"#, "wrong_type"),
        ("ack", #"{"request_id":"r","alarm_id":true}"#, "wrong_type"),
        ("ack", #"{"request_id":"r","alarm_id":7.5}"#, "wrong_type"),
        ("ack", #"{"request_id":"r","alarm_id":null}"#, "wrong_type"),
        ("ack", #"{"request_id":"r","alarm_id":-1}"#, "out_of_range"),
        ("ack", #"{"request_id":7,"alarm_id":7}"#, "wrong_type"),
        ("ack", #"{"request_id":"","alarm_id":7}"#, "out_of_range"),
        ("ack", #"{"request_id":"r","alarm_id":7,"operator":false}"#, "wrong_type"),
        ("ack", #"[1,2]"#, "malformed_json"),
        ("ack", #"{"request_id":"r","alarm_id":7"#, "malformed_json"),
        ("ack", "", "malformed_json"),
        ("silence", #"{"request_id":"r","alarm_id":7,"duration_s":0}"#, "out_of_range"),
        ("silence", #"{"request_id":"r","alarm_id":7,"duration_s":121}"#, "out_of_range"),
        ("silence", #"{"request_id":"r","alarm_id":7,"duration_s":-5}"#, "out_of_range"),
        ("silence", #"{"request_id":"r","alarm_id":7,"duration_s":1e300}"#, "wrong_type"),
        ("silence", #"{"request_id":"r","alarm_id":7,"duration_s":"60"}"#, "wrong_type"),
        ("silence", #"{"request_id":"r","alarm_id":7}"#, "missing_field"),
        ("reload", #"{"request_id":"r","model_id":"a/b"}"#, "out_of_range"),
        ("reload", ##"{"request_id":"r","model_id":"#"}"##, "out_of_range"),
        ("reboot", #"{"request_id":"r"}"#, "unknown_command"),
    ]

    @Test(arguments: malformed)
    func malformedCommandsAreRejected(name: String, json: String, code: String) {
        switch parse(name, json) {
        case .success(let command): Issue.record("accepted \(json) as \(command)")
        case .failure(let rejection): #expect(rejection.code == code, "\(json): \(rejection)")
        }
    }

    @Test func oversizedPayloadIsRejected() {
        let big = #"{"request_id":"r","alarm_id":7,"operator":""# + String(repeating: "x", count: 5000) + #""}"#
        guard case .failure(let rejection) = parse("ack", big) else { Issue.record("accepted"); return }
        #expect(rejection.code == "too_large")
    }
}
