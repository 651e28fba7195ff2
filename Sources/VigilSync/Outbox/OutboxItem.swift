import Foundation

/// Upload priority of an outbox entry. Lower raw value is more important and leaves first; when
/// the byte cap is reached the least important, oldest entries are evicted first and alerts never
/// make room for anything.
public enum OutboxPriority: Int, Sendable, Codable, Hashable, Comparable, CaseIterable {
    /// Alarm events. Never evicted by the cap; stored even when that exceeds the cap.
    case alert = 0
    /// Model predictions and the outbox's own status reports.
    case prediction = 1
    /// Vital-sign telemetry: the first to go when space runs out.
    case telemetry = 2

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Name used in counters and logs.
    public var name: String {
        switch self {
        case .alert: "alert"
        case .prediction: "prediction"
        case .telemetry: "telemetry"
        }
    }
}

/// One measured vital sign. Units are fixed per kind (UCUM, see `FHIRMapping`) so a caller
/// cannot pair a value with the wrong unit.
public enum VitalMeasurement: Sendable, Codable, Hashable {
    /// Heart rate in beats per minute (`/min`).
    case heartRate(Double)
    /// Respiratory rate in breaths per minute (`/min`).
    case respiratoryRate(Double)
    /// Peripheral oxygen saturation in percent (`%`).
    case oxygenSaturation(Double)
    /// Body temperature in degrees Celsius (`Cel`).
    case bodyTemperature(Double)
    /// Non-invasive blood pressure in mmHg (`mm[Hg]`).
    case bloodPressure(systolic: Double, diastolic: Double)

    /// Every numeric value, for validation.
    var values: [Double] {
        switch self {
        case .heartRate(let v), .respiratoryRate(let v), .oxygenSaturation(let v), .bodyTemperature(let v): [v]
        case .bloodPressure(let s, let d): [s, d]
        }
    }
}

/// A vital sign at a device time.
public struct VitalSign: Sendable, Codable, Hashable {
    /// What was measured.
    public var measurement: VitalMeasurement
    /// Device clock time of the measurement (becomes `effectiveDateTime`).
    public var time: Date
    /// Optional free text carried as an Observation note (e.g. signal-quality remarks).
    public var note: String?

    /// A vital sign.
    public init(_ measurement: VitalMeasurement, time: Date, note: String? = nil) {
        self.measurement = measurement
        self.time = time
        self.note = note
    }
}

/// The model a result came from, so it can be traced to the exact file.
public struct ModelIdentity: Sendable, Codable, Hashable {
    /// Model id from the `.vigil` metadata.
    public var id: String
    /// Model version from the metadata.
    public var version: String
    /// SHA-256 of the model file, lowercase hex.
    public var digest: String

    /// A model identity.
    public init(id: String, version: String, digest: String) {
        self.id = id
        self.version = version
        self.digest = digest
    }
}

/// One class score of a prediction.
public struct ClassScore: Sendable, Codable, Hashable {
    /// Class label.
    public var label: String
    /// Score or probability in [0, 1].
    public var score: Double

    /// A class score.
    public init(label: String, score: Double) {
        self.label = label
        self.score = score
    }
}

/// A model prediction.
public struct ModelPrediction: Sendable, Codable, Hashable {
    /// The model that produced it.
    public var model: ModelIdentity
    /// The winning label.
    public var label: String
    /// All class scores.
    public var scores: [ClassScore]
    /// Device clock time of the input window's end.
    public var time: Date

    /// A prediction.
    public init(model: ModelIdentity, label: String, scores: [ClassScore], time: Date) {
        self.model = model
        self.label = label
        self.scores = scores
        self.time = time
    }
}

/// IEC 60601-1-8 alarm priority.
public enum AlarmPriority: String, Sendable, Codable, Hashable {
    case high, medium, low
}

/// One alarm event (a state transition of an alarm).
public struct AlertEvent: Sendable, Codable, Hashable {
    /// The alarm's id, stable across its transitions.
    public var alarmID: String
    /// Machine-readable condition, e.g. `hr-high`, `lead-off`, `news2-high`.
    public var condition: String
    /// Alarm priority.
    public var priority: AlarmPriority
    /// State entered by this event: `active`, `acknowledged`, `latched`, `resolved`, ...
    public var state: String
    /// Why it fired, for the human reading it.
    public var message: String
    /// Device clock time of the transition.
    public var time: Date
    /// The model behind a model alarm, if any.
    public var model: ModelIdentity?

    /// An alarm event.
    public init(alarmID: String, condition: String, priority: AlarmPriority, state: String,
                message: String, time: Date, model: ModelIdentity? = nil) {
        self.alarmID = alarmID
        self.condition = condition
        self.priority = priority
        self.state = state
        self.message = message
        self.time = time
        self.model = model
    }
}

/// Cumulative counts of what the outbox lost or gave up on, reported upstream so the server side
/// knows telemetry is missing and why. Counts never decrease, so a lost report loses nothing.
public struct OutboxLossCounts: Sendable, Codable, Hashable {
    /// Entries evicted by the byte cap, per priority name.
    public var evicted: [String: Int]
    /// Incoming entries refused because nothing less important could be evicted, per priority.
    public var dropped: [String: Int]
    /// Entries that outlived their TTL, per priority.
    public var expired: [String: Int]
    /// Entries the server rejected (moved to the dead-letter table).
    public var deadLettered: Int
    /// Alerts stored although the cap was already reached.
    public var alertsOverCap: Int

    /// Total of everything above; grows whenever anything is lost.
    public var total: Int {
        evicted.values.reduce(0, +) + dropped.values.reduce(0, +) + expired.values.reduce(0, +)
            + deadLettered + alertsOverCap
    }

    /// Counts.
    public init(evicted: [String: Int] = [:], dropped: [String: Int] = [:], expired: [String: Int] = [:],
                deadLettered: Int = 0, alertsOverCap: Int = 0) {
        self.evicted = evicted
        self.dropped = dropped
        self.expired = expired
        self.deadLettered = deadLettered
        self.alertsOverCap = alertsOverCap
    }
}

/// A status report of the outbox itself, uploaded as an Observation.
public struct OutboxStatusReport: Sendable, Codable, Hashable {
    /// Cumulative loss counts at `time`.
    public var counts: OutboxLossCounts
    /// When the report was made.
    public var time: Date
}

/// Something that must reach the FHIR server: a FHIR-mappable event with a UUID that becomes the
/// resource's stable `identifier`, so a retried upload is recognised by `ifNoneExist`.
public struct OutboxItem: Sendable, Codable, Hashable {
    /// The payload kinds.
    public enum Event: Sendable, Codable, Hashable {
        /// Vital-sign telemetry.
        case vital(VitalSign)
        /// A model prediction.
        case prediction(ModelPrediction)
        /// An alarm event.
        case alert(AlertEvent)
        /// The outbox's own loss report (enqueued by the uploader).
        case outboxStatus(OutboxStatusReport)
    }

    /// Identity of this entry; fixed at creation, survives restarts and retries.
    public var id: UUID
    /// The payload.
    public var event: Event

    /// An item with a fresh UUID unless one is given.
    public init(_ event: Event, id: UUID = UUID()) {
        self.id = id
        self.event = event
    }

    /// Vital telemetry.
    public static func vital(_ measurement: VitalMeasurement, time: Date, note: String? = nil, id: UUID = UUID()) -> OutboxItem {
        OutboxItem(.vital(VitalSign(measurement, time: time, note: note)), id: id)
    }

    /// A prediction.
    public static func prediction(_ prediction: ModelPrediction, id: UUID = UUID()) -> OutboxItem {
        OutboxItem(.prediction(prediction), id: id)
    }

    /// An alarm event.
    public static func alert(_ alert: AlertEvent, id: UUID = UUID()) -> OutboxItem {
        OutboxItem(.alert(alert), id: id)
    }

    /// Upload and eviction priority.
    public var priority: OutboxPriority {
        switch event {
        case .alert: .alert
        case .prediction, .outboxStatus: .prediction
        case .vital: .telemetry
        }
    }

    /// Refuses values FHIR cannot carry (NaN, infinity), so a bad value is caught at the call site
    /// instead of poisoning an upload later.
    func validate() throws(SyncError) {
        func finite(_ v: Double, _ what: String) throws(SyncError) {
            guard v.isFinite else { throw SyncError(.invalidEvent, "item \(id): \(what) is \(v)") }
        }
        switch event {
        case .vital(let v):
            for x in v.measurement.values { try finite(x, "vital value") }
        case .prediction(let p):
            for s in p.scores { try finite(s.score, "score of \(s.label)") }
            if p.model.id.isEmpty { throw SyncError(.invalidEvent, "item \(id): empty model id") }
        case .alert(let a):
            if a.condition.isEmpty { throw SyncError(.invalidEvent, "item \(id): empty alarm condition") }
        case .outboxStatus: break
        }
    }
}
