import Foundation

/// `vigil/v1/<site>/<device>/predictions/<model>`: one inference result. Predictions on a signal
/// too poor to trust are withheld by the agent, not published.
public struct PredictionPayload: MQTTPayload, Hashable {
    /// One class and its score.
    public struct ClassScore: Codable, Sendable, Hashable {
        /// Class label.
        public var label: String
        /// Its score (a probability for softmax/sigmoid outputs).
        public var score: Double

        /// A class score.
        public init(label: String, score: Double) {
            self.label = label
            self.score = score
        }
    }

    /// The model that produced it.
    public var model: ModelInfo
    /// The top class.
    public var label: String
    /// The top class's score.
    public var score: Double
    /// Every class, in the model's output order.
    public var scores: [ClassScore]
    /// Time of the first sample of the input window (or the image acquisition time).
    public var windowStart: Date
    /// Time of the last sample of the input window.
    public var windowEnd: Date
    /// Signal quality index of the window, 0...1, when the input was a signal.
    public var signalQuality: Double?
    /// Inference time in microseconds.
    public var inferenceMicroseconds: Double?

    /// A prediction.
    public init(model: ModelInfo, label: String, score: Double, scores: [ClassScore], windowStart: Date,
                windowEnd: Date, signalQuality: Double? = nil, inferenceMicroseconds: Double? = nil) {
        self.model = model
        self.label = label
        self.score = score
        self.scores = scores
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.signalQuality = signalQuality
        self.inferenceMicroseconds = inferenceMicroseconds
    }

    enum CodingKeys: String, CodingKey {
        case model, label, score, scores
        case windowStart = "window_start"
        case windowEnd = "window_end"
        case signalQuality = "signal_quality"
        case inferenceMicroseconds = "inference_us"
    }
}
