import Foundation
import Testing
@testable import VigilSync

@Suite struct FHIRMappingTests {
    let time = Date(timeIntervalSince1970: 1_790_000_000.25)

    func vital(_ m: VitalMeasurement) -> FHIRJSON {
        FHIRMapping.resource(for: .vital(m, time: time), subject: testSubject)
    }

    func codes(_ r: FHIRJSON?) -> [String] {
        r?["coding"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? []
    }

    @Test(arguments: [
        (VitalMeasurement.heartRate(72), ["8867-4"], "/min"),
        (.respiratoryRate(16), ["9279-1"], "/min"),
        (.oxygenSaturation(97), ["2708-6", "59408-5"], "%"),
        (.bodyTemperature(37.2), ["8310-5"], "Cel"),
    ])
    func vitalSignCodesAndUnits(_ m: VitalMeasurement, _ loinc: [String], _ unit: String) {
        let r = vital(m)
        #expect(r["resourceType"] == "Observation")
        #expect(r["status"] == "final")
        #expect(codes(r["code"]) == loinc)
        #expect(r["code"]?["coding"]?.arrayValue?.allSatisfy { $0["system"] == "http://loinc.org" } == true)
        #expect(r["valueQuantity"]?["code"]?.stringValue == unit)
        #expect(r["valueQuantity"]?["unit"]?.stringValue == unit)
        #expect(r["valueQuantity"]?["system"] == "http://unitsofmeasure.org")
        #expect(codes(r["category"]?.arrayValue?.first) == ["vital-signs"])
        #expect(r["subject"]?["reference"] == "Patient/pseudo-1")
        #expect(r["device"]?["reference"] == "Device/vigil-test")
        #expect(r["effectiveDateTime"] == "2026-09-21T14:13:20.250Z")
    }

    @Test func bloodPressurePanelHasTwoComponents() {
        let r = vital(.bloodPressure(systolic: 120, diastolic: 80))
        #expect(codes(r["code"]) == ["85354-9"])
        #expect(r["valueQuantity"] == nil)
        let comps = r["component"]?.arrayValue ?? []
        #expect(comps.map { codes($0["code"]) } == [["8480-6"], ["8462-4"]])
        #expect(comps.map { $0["valueQuantity"]?["code"]?.stringValue } == ["mm[Hg]", "mm[Hg]"])
        #expect(comps.map { $0["valueQuantity"]?["value"] } == [.number(120), .number(80)])
    }

    @Test func entryHasStableIdentifierAndIfNoneExist() throws {
        let id = UUID(uuidString: "8C1F0E9A-3B7D-4F2A-9E61-0D5C2B7A4E10")!
        let item = OutboxItem.vital(.heartRate(70), time: time, id: id)
        let entry = FHIRMapping.bundleEntry(for: item, subject: testSubject)
        let value = "urn:uuid:8c1f0e9a-3b7d-4f2a-9e61-0d5c2b7a4e10"
        #expect(entry["resource"]?["identifier"]?.arrayValue?.first == ["system": "urn:ietf:rfc:3986", "value": .string(value)])
        #expect(entry["request"]?["method"] == "POST")
        #expect(entry["request"]?["url"] == "Observation")
        #expect(entry["request"]?["ifNoneExist"]?.stringValue == "identifier=urn:ietf:rfc:3986|\(value)")
        // Same item, same bytes: a retry sends exactly what the first attempt sent.
        #expect(try FHIRMapping.bundleEntry(for: item, subject: testSubject).encoded()
                == (try entry.encoded()))
    }

    @Test func predictionCarriesModelIdVersionAndDigest() {
        let p = ModelPrediction(model: ModelIdentity(id: "ecg-arrhythmia", version: "2.1.0", digest: "9f86d081"),
                                label: "AF", scores: [ClassScore(label: "AF", score: 0.8), ClassScore(label: "N", score: 0.2)],
                                time: time)
        let r = FHIRMapping.resource(for: .prediction(p), subject: testSubject)
        let method = r["method"]?["coding"]?.arrayValue ?? []
        #expect(method.first?["code"] == "ecg-arrhythmia")
        #expect(method.first?["version"] == "2.1.0")
        #expect(method.last?["system"] == "urn:vigil:model-sha256")
        #expect(method.last?["code"] == "9f86d081")
        #expect(r["valueCodeableConcept"]?["text"] == "AF")
        #expect(r["component"]?.arrayValue?.count == 2)
        #expect(r["component"]?.arrayValue?.first?["valueQuantity"]?["code"] == "1")
    }

    @Test(arguments: [(AlarmPriority.high, "high"), (.medium, "moderate"), (.low, "low")])
    func alertIsDetectedIssueWithSeverity(_ p: AlarmPriority, _ severity: String) {
        let a = AlertEvent(alarmID: "alarm-7", condition: "spo2-low", priority: p, state: "active",
                           message: "SpO2 88 % below 90 % for 10 s", time: time)
        let r = FHIRMapping.resource(for: .alert(a), subject: testSubject)
        #expect(r["resourceType"] == "DetectedIssue")
        #expect(r["severity"]?.stringValue == severity)
        #expect(r["patient"]?["reference"] == "Patient/pseudo-1")
        #expect(r["author"]?["reference"] == "Device/vigil-test")
        #expect(r["identifiedDateTime"] == "2026-09-21T14:13:20.250Z")
        #expect(r["detail"]?.stringValue?.contains("below 90") == true)
        #expect(r["identifier"]?.arrayValue?.last?["value"] == "alarm-7")
    }

    @Test func statusReportCountsLosses() {
        let counts = OutboxLossCounts(evicted: ["telemetry": 12], dropped: [:], expired: ["prediction": 3],
                                      deadLettered: 1, alertsOverCap: 0)
        let r = FHIRMapping.resource(for: OutboxItem(.outboxStatus(OutboxStatusReport(counts: counts, time: time))),
                                     subject: testSubject)
        var values: [String: FHIRJSON] = [:]
        for c in r["component"]?.arrayValue ?? [] {
            if let code = codes(c["code"]).first { values[code] = c["valueInteger"] }
        }
        #expect(values["evicted-telemetry"] == .int(12))
        #expect(values["expired-prediction"] == .int(3))
        #expect(values["dead-lettered"] == .int(1))
        #expect(values["evicted-alert"] == .int(0))
        #expect(r["subject"]?["reference"] == "Device/vigil-test")
    }
}
