/// An alarm on a model's prediction: the probability of one class over a threshold for k
/// consecutive windows that the signal-quality gate accepted.
///
/// A window the gate rejected is withheld: it never counts toward the k windows, it breaks the run
/// of consecutive windows, and it neither raises nor clears an alarm. A change of model version
/// also restarts the count, so k windows always come from one model.
public struct ModelAlarmRule: Sendable, Hashable {
    /// Stable condition code, e.g. `af_detected`.
    public var code: String
    /// The model id (metadata name) the rule applies to.
    public var modelID: String
    /// Index of the class in the model's output.
    public var classIndex: Int
    /// The class label, for messages.
    public var label: String
    /// The alarm needs probability strictly over this.
    public var threshold: Double
    /// How many consecutive accepted windows over the threshold activate the alarm (k >= 1).
    public var consecutiveWindows: Int
    /// An active alarm clears on an accepted window with probability at or below
    /// `clearingLevel` (`threshold - hysteresis`).
    public var hysteresis: Double
    /// Priority at activation.
    public var priority: AlarmPriority
    /// Latching behaviour.
    public var latching: Latching
    /// Escalation when unanswered, or `nil`.
    public var escalation: Escalation?

    /// A model alarm rule.
    public init(code: String, modelID: String, classIndex: Int, label: String, threshold: Double,
                consecutiveWindows: Int, hysteresis: Double = 0.1, priority: AlarmPriority,
                latching: Latching = .whenHighPriority, escalation: Escalation? = nil) {
        self.code = code
        self.modelID = modelID
        self.classIndex = classIndex
        self.label = label
        self.threshold = threshold
        self.consecutiveWindows = consecutiveWindows
        self.hysteresis = hysteresis
        self.priority = priority
        self.latching = latching
        self.escalation = escalation
    }

    /// `threshold - hysteresis`, snapped to 1e-9 so that decimal settings mean what they say
    /// (0.3 - 0.1 is 0.19999999999999998 as a Double; the clearing level is 0.2).
    public var clearingLevel: Double { ((threshold - hysteresis) * 1e9).rounded() / 1e9 }

    var condition: AlarmCondition { AlarmCondition(kind: .model, code: code, source: modelID) }
}

/// One inference window as the alerts engine sees it.
public struct ModelWindow: Sendable, Hashable {
    /// The model that produced it.
    public var model: ModelIdentity
    /// Class probabilities (e.g. dequantized softmax output), each in 0...1.
    public var probabilities: [Double]
    /// Whether the signal-quality gate accepted the window's input. Rejected windows are withheld.
    public var qualityAccepted: Bool

    /// A window.
    public init(model: ModelIdentity, probabilities: [Double], qualityAccepted: Bool) {
        self.model = model
        self.probabilities = probabilities
        self.qualityAccepted = qualityAccepted
    }
}
