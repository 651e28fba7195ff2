import Foundation

/// `vigil/v1/<site>/<device>/waveforms/<channel>` (QoS 0): a block of samples for live display.
/// Blocks may be dropped under load; `sequence` shows the gap.
public struct WaveformPayload: MQTTPayload, Hashable {
    /// The channel (`ecg`, `ppg`, `resp`); equals the topic's last level.
    public var channel: String
    /// Block number on this channel, +1 per block; a gap means blocks were dropped.
    public var sequence: UInt64
    /// Sampling rate in Hz.
    public var rateHz: Double
    /// Time of the first sample.
    public var start: Date
    /// UCUM unit of the samples (`mV`, `1` for unscaled).
    public var unit: String
    /// The samples, oldest first, `1 / rate_hz` seconds apart.
    public var samples: [Double]

    /// A waveform block.
    public init(channel: String, sequence: UInt64, rateHz: Double, start: Date, unit: String, samples: [Double]) {
        self.channel = channel
        self.sequence = sequence
        self.rateHz = rateHz
        self.start = start
        self.unit = unit
        self.samples = samples
    }

    enum CodingKeys: String, CodingKey {
        case channel, sequence, start, unit, samples
        case rateHz = "rate_hz"
    }
}
