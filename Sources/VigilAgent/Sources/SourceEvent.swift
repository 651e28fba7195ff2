/// What a signal source delivers to pipelines.
public enum SourceEvent: Sendable {
    /// Consecutive samples of one channel.
    case samples(SampleBlock)
    /// The front end reports a technical condition (lead off, sensor fault) present or cleared.
    case technical(channel: String, condition: TechnicalSignal, present: Bool, deviceMicros: Int64)
    /// A numeric vital measured by the device itself (temperature, NIBP), passed through.
    case numeric(kind: String, value: Double, deviceMicros: Int64)
    /// The link to the device was lost or came back.
    case link(up: Bool)
}

/// Technical conditions sources can report.
public enum TechnicalSignal: String, Sendable {
    case leadOff = "lead-off"
    case sensorFault = "sensor-fault"
}

/// Consecutive samples of one channel, in physical units.
public struct SampleBlock: Sendable {
    public var channel: String
    /// Samples per second.
    public var rate: Double
    /// Index of `samples[0]` in the channel's stream since the source started (gaps advance it).
    public var firstIndex: Int64
    /// Device time of `samples[0]` in microseconds since the source started.
    public var deviceMicros: Int64
    public var samples: [Float]
    public init(channel: String, rate: Double, firstIndex: Int64, deviceMicros: Int64, samples: [Float]) {
        self.channel = channel
        self.rate = rate
        self.firstIndex = firstIndex
        self.deviceMicros = deviceMicros
        self.samples = samples
    }
}
