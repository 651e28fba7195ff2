import SensorLink

/// The channel ids the bridge announces in its hello and stamps on its waveform blocks.
public enum BridgeChannel {
    /// ECG (ADS1292R channel 2).
    public static let ecg: UInt8 = 0
    /// Respiration impedance (ADS1292R channel 1).
    public static let respiration: UInt8 = 1
    /// PPG red (MAX30102 LED1).
    public static let red: UInt8 = 2
    /// PPG infrared (MAX30102 LED2).
    public static let infrared: UInt8 = 3
}

/// How one channel is announced, buffered and blocked.
public struct ChannelSettings: Sendable {
    /// Nominal sample rate, announced in the hello and every block.
    public var rate: SampleRate
    /// Wire format; every sample must fit it.
    public var format: SampleFormat
    /// Unit after scaling.
    public var unit: Unit
    /// Physical units per count.
    public var scale: Float
    /// The raw value meaning zero.
    public var offset: Int32
    /// Samples per waveform block.
    public var blockSamples: Int
    /// Ring buffer capacity in samples (how long the link may stall before samples are lost).
    public var ringCapacity: Int

    /// Creates channel settings.
    public init(rate: SampleRate, format: SampleFormat, unit: Unit, scale: Float, offset: Int32,
                blockSamples: Int, ringCapacity: Int) {
        self.rate = rate
        self.format = format
        self.unit = unit
        self.scale = scale
        self.offset = offset
        self.blockSamples = blockSamples
        self.ringCapacity = ringCapacity
    }

    /// Microseconds between samples (rounded down).
    public var periodMicroseconds: UInt64 { 1_000_000_000 / UInt64(max(rate.milliHertz, 1)) }
}

/// Everything the bridge firmware is told at boot. The defaults are the board's: ADS1292R at
/// 500 SPS (ECG gain 6, VREF 2.42 V: 2·2.42/6/2^24·1000 mV per count), MAX30102 at 100 samples/s.
public struct BridgeConfiguration: Sendable {
    /// Firmware version announced in the hello.
    public var firmware = FirmwareVersion(1, 0, 0)
    /// ADS1292R output data rate written to CONFIG1.
    public var frontEndRate: ADS1292R.DataRate = .sps500
    /// ECG channel.
    public var ecg = ChannelSettings(rate: SampleRate(hertz: 500), format: .int32, unit: .millivolt,
                                     scale: 2 * 2.42 / 6 / 16_777_216 * 1000, offset: 0, blockSamples: 25, ringCapacity: 256)
    /// Respiration channel (raw counts of the demodulated impedance signal).
    public var respiration = ChannelSettings(rate: SampleRate(hertz: 500), format: .int32, unit: .counts,
                                             scale: 1, offset: 0, blockSamples: 25, ringCapacity: 256)
    /// PPG red channel (18-bit photodiode counts).
    public var red = ChannelSettings(rate: SampleRate(hertz: 100), format: .int32, unit: .counts,
                                     scale: 1, offset: 0, blockSamples: 10, ringCapacity: 64)
    /// PPG infrared channel.
    public var infrared = ChannelSettings(rate: SampleRate(hertz: 100), format: .int32, unit: .counts,
                                          scale: 1, offset: 0, blockSamples: 10, ringCapacity: 64)
    /// Status period (µs); a status also goes out at once when lead-off or a fault changes.
    public var statusInterval: UInt64 = 1_000_000
    /// Periodic hello period (µs).
    public var helloInterval: UInt64 = 5_000_000
    /// The oximeter FIFO is drained at least this often (µs), besides on its A_FULL interrupt.
    public var oximeterPollInterval: UInt64 = 50_000
    /// IR counts below which the oximeter reports no finger (fault `noContact`).
    public var noContactThreshold: UInt32 = 5_000
    /// UART transmit queue size in bytes.
    public var transmitQueueBytes = 1024

    /// The board's defaults.
    public init() {}
}
