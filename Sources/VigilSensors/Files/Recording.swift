/// A recorded multichannel waveform read from a file: every channel shares one sample rate.
public struct Recording: Sendable, Equatable {
    /// Samples per second of every channel.
    public var sampleRate: Double
    /// The channels, in file order.
    public var channels: [Channel]

    /// A recording.
    public init(sampleRate: Double, channels: [Channel]) {
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// The channel named `name` (exact match first, then case-insensitive), if any.
    public func channel(named name: String) -> Channel? {
        channels.first { $0.name == name } ?? channels.first { $0.name.lowercased() == name.lowercased() }
    }

    /// Samples in the longest channel.
    public var sampleCount: Int { channels.map(\.samples.count).max() ?? 0 }

    /// Duration in seconds of the longest channel.
    public var duration: Double { sampleRate > 0 ? Double(sampleCount) / sampleRate : 0 }
}

/// One signal of a recording, in physical units.
public struct Channel: Sendable, Equatable {
    /// The signal's name as the file gives it (e.g. `MLII`, a CSV column name, `ch0`).
    public var name: String
    /// Physical unit (e.g. `mV`), or `""` when the file does not say.
    public var unit: String
    /// Samples in physical units. `Float.nan` marks a sample the file flags as invalid
    /// (e.g. WFDB's invalid-sample value), so missing data is never mistaken for a reading.
    public var samples: [Float]

    /// A channel.
    public init(name: String, unit: String, samples: [Float]) {
        self.name = name
        self.unit = unit
        self.samples = samples
    }
}
