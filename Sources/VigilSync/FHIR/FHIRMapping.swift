import Foundation

/// Turns outbox items into FHIR R4 resources.
///
/// - Vital signs: `Observation`, category `vital-signs`, LOINC code, UCUM `valueQuantity`
///   (blood pressure: panel 85354-9 with systolic 8480-6 and diastolic 8462-4 components).
/// - Predictions: `Observation` coded `urn:vigil:model|<model id>`; the model version is the
///   coding's `version`, and `method` carries two codings: the model (`urn:vigil:model`, with
///   version) and its file digest (`urn:vigil:model-sha256|<hex>`). `valueCodeableConcept.text`
///   is the winning label; one component per class score (UCUM `1`).
/// - Alarm events: `DetectedIssue` (severity high/moderate/low from the IEC priority, `detail`
///   = state and why it fired, author = the device, second identifier = the alarm id).
/// - Outbox status: `Observation` coded `urn:vigil:sync|outbox-losses`, subject = the device, one
///   integer component per cumulative loss counter (`urn:vigil:sync|evicted-telemetry`, ...).
///
/// Every resource carries `identifier` `urn:ietf:rfc:3986|urn:uuid:<entry UUID>`, the key of
/// the entry's `ifNoneExist`.
public enum FHIRMapping {
    /// LOINC.
    public static let loinc = "http://loinc.org"
    /// UCUM.
    public static let ucum = "http://unitsofmeasure.org"
    /// Identifier system for URIs (RFC 3986): values are `urn:uuid:...`.
    public static let identifierSystem = "urn:ietf:rfc:3986"
    /// Code system of model ids.
    public static let modelSystem = "urn:vigil:model"
    /// Code system of model file digests.
    public static let modelDigestSystem = "urn:vigil:model-sha256"
    /// Code system of alarm conditions.
    public static let alarmConditionSystem = "urn:vigil:alarm-condition"
    /// Identifier system of alarm ids.
    public static let alarmSystem = "urn:vigil:alarm"
    /// Code system of the outbox's own status codes.
    public static let syncSystem = "urn:vigil:sync"

    /// The identifier value of an entry.
    public static func identifierValue(_ id: UUID) -> String { "urn:uuid:\(id.uuidString.lowercased())" }

    /// The `ifNoneExist` search of an entry.
    public static func ifNoneExist(_ id: UUID) -> String { "identifier=\(identifierSystem)|\(identifierValue(id))" }

    /// LOINC codes and UCUM unit of a measurement: `(codes, display, unit)`.
    public static func coding(of m: VitalMeasurement) -> (codes: [(String, String)], unit: String) {
        switch m {
        case .heartRate: ([("8867-4", "Heart rate")], "/min")
        case .respiratoryRate: ([("9279-1", "Respiratory rate")], "/min")
        case .oxygenSaturation: ([("2708-6", "Oxygen saturation in Arterial blood"),
                                  ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")], "%")
        case .bodyTemperature: ([("8310-5", "Body temperature")], "Cel")
        case .bloodPressure: ([("85354-9", "Blood pressure panel with all children optional")], "mm[Hg]")
        }
    }

    /// FHIR `dateTime` / `instant` text with milliseconds in UTC.
    public static func dateTime(_ d: Date) -> String {
        // Formatting by hand keeps this independent of locale and ISO8601DateFormatter options.
        let ms = Int64((d.timeIntervalSince1970 * 1000).rounded(.down))
        let secs = ms.quotientAndRemainderFloor(1000)
        var t = time_t(secs.q)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1,
                      Int(tmv.tm_mday), Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec), Int(secs.r))
    }

    static func quantity(_ v: Double, _ unit: String) -> FHIRJSON {
        ["value": .number(v), "unit": .string(unit), "system": .string(ucum), "code": .string(unit)]
    }

    static func codeable(_ codes: [(String, String)], system: String, text: String? = nil) -> FHIRJSON {
        var o: [String: FHIRJSON] = [
            "coding": .array(codes.map { ["system": .string(system), "code": .string($0.0), "display": .string($0.1)] })
        ]
        if let text { o["text"] = .string(text) }
        return .object(o)
    }

    static let vitalCategory: FHIRJSON = [[
        "coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "vital-signs", "display": "Vital Signs"]],
    ]]

    /// The resource for an item, with references stamped at enqueue.
    public static func resource(for item: OutboxItem, subject: FHIRSubject) -> FHIRJSON {
        let identifier: FHIRJSON = ["system": .string(identifierSystem), "value": .string(identifierValue(item.id))]
        let patient: FHIRJSON = ["reference": .string(subject.patientReference)]
        let device: FHIRJSON = ["reference": .string(subject.deviceReference)]
        switch item.event {
        case .vital(let v):
            let (codes, unit) = coding(of: v.measurement)
            var o: [String: FHIRJSON] = [
                "resourceType": "Observation", "status": "final", "identifier": [identifier],
                "category": vitalCategory, "code": codeable(codes, system: loinc, text: codes[0].1),
                "subject": patient, "device": device, "effectiveDateTime": .string(dateTime(v.time)),
            ]
            switch v.measurement {
            case .bloodPressure(let systolic, let diastolic):
                o["component"] = [
                    ["code": codeable([("8480-6", "Systolic blood pressure")], system: loinc),
                     "valueQuantity": quantity(systolic, unit)],
                    ["code": codeable([("8462-4", "Diastolic blood pressure")], system: loinc),
                     "valueQuantity": quantity(diastolic, unit)],
                ]
            case .heartRate(let x), .respiratoryRate(let x), .oxygenSaturation(let x), .bodyTemperature(let x):
                o["valueQuantity"] = quantity(x, unit)
            }
            if let note = v.note { o["note"] = [["text": .string(note)]] }
            return .object(o)
        case .prediction(let p):
            let model: FHIRJSON = ["system": .string(modelSystem), "code": .string(p.model.id),
                                   "version": .string(p.model.version),
                                   "display": .string("\(p.model.id) \(p.model.version)")]
            return [
                "resourceType": "Observation", "status": "final", "identifier": [identifier],
                "code": ["coding": [model], "text": .string("Vigil model prediction: \(p.model.id)")],
                "method": ["coding": [model, ["system": .string(modelDigestSystem), "code": .string(p.model.digest)]],
                           "text": .string("model \(p.model.id) version \(p.model.version) sha256 \(p.model.digest)")],
                "subject": patient, "device": device, "effectiveDateTime": .string(dateTime(p.time)),
                "valueCodeableConcept": ["text": .string(p.label)],
                "component": .array(p.scores.map { s in
                    ["code": ["text": .string(s.label)], "valueQuantity": quantity(s.score, "1")]
                }),
            ]
        case .alert(let a):
            let severity: String = switch a.priority {
            case .high: "high"
            case .medium: "moderate"
            case .low: "low"
            }
            var detail = "\(a.state): \(a.message)"
            if let m = a.model { detail += " (model \(m.id) version \(m.version) sha256 \(m.digest))" }
            return [
                "resourceType": "DetectedIssue", "status": "final",
                "identifier": [identifier, ["system": .string(alarmSystem), "value": .string(a.alarmID)]],
                "code": ["coding": [["system": .string(alarmConditionSystem), "code": .string(a.condition)]],
                         "text": .string(a.condition)],
                "severity": .string(severity), "patient": patient, "author": device,
                "identifiedDateTime": .string(dateTime(a.time)), "detail": .string(detail),
            ]
        case .outboxStatus(let r):
            var components: [FHIRJSON] = []
            func add(_ code: String, _ n: Int) {
                components.append(["code": ["coding": [["system": .string(syncSystem), "code": .string(code)]]],
                                   "valueInteger": .int(n)])
            }
            for p in OutboxPriority.allCases {
                add("evicted-\(p.name)", r.counts.evicted[p.name] ?? 0)
                add("dropped-\(p.name)", r.counts.dropped[p.name] ?? 0)
                add("expired-\(p.name)", r.counts.expired[p.name] ?? 0)
            }
            add("dead-lettered", r.counts.deadLettered)
            add("alerts-over-cap", r.counts.alertsOverCap)
            return [
                "resourceType": "Observation", "status": "final", "identifier": [identifier],
                "code": ["coding": [["system": .string(syncSystem), "code": "outbox-losses"]],
                         "text": "Vigil outbox losses (cumulative)"],
                "subject": device, "device": device, "effectiveDateTime": .string(dateTime(r.time)),
                "component": .array(components),
            ]
        }
    }

    /// A transaction Bundle entry: POST with `ifNoneExist` on the entry's identifier.
    public static func bundleEntry(for item: OutboxItem, subject: FHIRSubject) -> FHIRJSON {
        let resource = resource(for: item, subject: subject)
        return [
            "fullUrl": .string(identifierValue(item.id)),
            "resource": resource,
            "request": ["method": "POST", "url": resource["resourceType"] ?? "Observation",
                        "ifNoneExist": .string(ifNoneExist(item.id))],
        ]
    }

    /// A transaction Bundle of entries.
    public static func transaction(_ entries: [FHIRJSON]) -> FHIRJSON {
        ["resourceType": "Bundle", "type": "transaction", "entry": .array(entries)]
    }
}

extension Int64 {
    fileprivate func quotientAndRemainderFloor(_ d: Int64) -> (q: Int64, r: Int64) {
        var q = self / d, r = self % d
        if r < 0 { q -= 1; r += d }
        return (q, r)
    }
}
