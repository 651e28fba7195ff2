import SensorLink

/// Driver for the TI ADS1292R two-channel 24-bit ECG/respiration front end on SPI (mode 1:
/// CPOL 0, CPHA 1). Channel 1 measures respiration (thoracic impedance, the R part's modulated
/// channel), channel 2 the ECG lead. Register values and the data layout follow the ADS1292R
/// datasheet (TI SBAS502): in read-data-continuous mode (RDATAC) every DRDY falling edge makes
/// 72 bits available: a 24-bit status word `1100 LOFF_STAT[4:0] GPIO[1:0] 0…0`, then channel 1
/// and channel 2 as 24-bit two's complement, most significant byte first.
public struct ADS1292R {
    /// SPI opcodes (datasheet "SPI Command Definitions").
    public enum Command: UInt8, Sendable {
        case wakeup = 0x02, standby = 0x04, reset = 0x06, start = 0x08, stop = 0x0A
        /// Read data continuous: the device's power-on mode; register commands are ignored in it.
        case readContinuous = 0x10
        /// Stop read data continuous: needed before register reads and writes.
        case stopReadContinuous = 0x11
        case readData = 0x12
    }

    /// Register addresses.
    public enum Register: UInt8, Sendable {
        case id = 0x00, config1 = 0x01, config2 = 0x02, leadOff = 0x03, channel1 = 0x04, channel2 = 0x05
        case rightLegSense = 0x06, leadOffSense = 0x07, leadOffStatus = 0x08, resp1 = 0x09, resp2 = 0x0A
        case gpio = 0x0B
    }

    /// Output data rate, CONFIG1 bits 2:0 (with the default 128 kHz modulator clock).
    public enum DataRate: UInt8, Sendable {
        case sps125 = 0, sps250 = 1, sps500 = 2, sps1000 = 3, sps2000 = 4, sps4000 = 5, sps8000 = 6

        /// Samples per second.
        public var samplesPerSecond: UInt32 { 125 << UInt32(rawValue) }
    }

    /// The ID register of an ADS1292R (bits 7:5 = 011 for the ADS1292R, bits 1:0 = 11 two channels).
    public static let deviceID: UInt8 = 0x73
    /// Bytes of one RDATAC sample: status and two channels of 24 bits.
    public static let sampleLength = 9
    /// The four fixed high bits of a valid status word (`1100`). Anything else means the chip is
    /// not clocking out data (absent, held in reset, or the bus is broken).
    static let statusHeader: UInt32 = 0xC

    /// Register values written at start-up (LOFF_STAT, 0x08, is read-only and skipped).
    /// - CONFIG1 = DR: continuous conversion at the chosen rate (0x02 = 500 SPS).
    /// - CONFIG2 = 0xE0: bit 7 (must be 1), PDB_LOFF_COMP (lead-off comparators on),
    ///   PDB_REFBUF (internal reference on), VREF_4V = 0 (2.42 V), no test signal.
    /// - LOFF = 0x10: bit 4 (must be 1), comparator threshold 95 %, 6 nA, DC lead-off.
    /// - CH1SET = 0x40: respiration channel, gain 4, normal input.
    /// - CH2SET = 0x00: ECG channel, gain 6, normal input (the 4.8081e-5 mV/count of the docs).
    /// - RLD_SENS = 0x2C: right-leg drive buffer on, driven from channel 2's inputs.
    /// - LOFF_SENS = 0x0F: lead-off detection on IN1P, IN1N, IN2P, IN2N.
    /// - RESP1 = 0xEA: respiration demodulator and modulator on, phase 112.5°, bit 1 (must be 1).
    /// - RESP2 = 0x03: 32 kHz respiration frequency, RLDREF internal, bit 0 as the datasheet sets it.
    public static func configuration(rate: DataRate) -> [(Register, UInt8)] {
        [(.config1, rate.rawValue), (.config2, 0xE0), (.leadOff, 0x10), (.channel1, 0x40), (.channel2, 0x00),
         (.rightLegSense, 0x2C), (.leadOffSense, 0x0F), (.resp1, 0xEA), (.resp2, 0x03)]
    }

    /// One decoded RDATAC sample.
    public struct Sample: Equatable, Sendable {
        /// The raw 24-bit status word.
        public var status: UInt32
        /// LOFF_STAT bits 0-4 (IN1P, IN1N, IN2P, IN2N, RLD), as the SensorLink lead-off bitmap
        /// carries them.
        public var leadOff: UInt16
        /// Channel 1 (respiration), sign-extended.
        public var channel1: Int32
        /// Channel 2 (ECG), sign-extended.
        public var channel2: Int32
    }

    /// Sign-extends a 24-bit two's complement value given most significant byte first.
    @inline(__always)
    public static func signExtend24(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8) -> Int32 {
        let raw = UInt32(b0) << 24 | UInt32(b1) << 16 | UInt32(b2) << 8
        return Int32(bitPattern: raw) >> 8  // arithmetic shift carries bit 23 into the top byte
    }

    /// Parses the 9 bytes clocked out after DRDY; nil when the status header is not `1100`.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Sample? {
        guard bytes.count >= sampleLength else { return nil }
        let status = UInt32(bytes[0]) << 16 | UInt32(bytes[1]) << 8 | UInt32(bytes[2])
        guard status >> 20 == statusHeader else { return nil }
        return Sample(status: status, leadOff: UInt16(truncatingIfNeeded: (status >> 15) & 0x1F),
                      channel1: signExtend24(bytes[3], bytes[4], bytes[5]),
                      channel2: signExtend24(bytes[6], bytes[7], bytes[8]))
    }

    /// Why start-up failed, as a SensorLink fault code.
    public private(set) var fault: FaultCode?
    /// Samples whose status header was invalid since boot.
    public private(set) var badSamples: UInt32 = 0
    /// Scratch for SPI transfers, allocated once.
    private var scratch: [UInt8]

    /// A driver; nothing is sent until `start`.
    public init() {
        scratch = [UInt8](repeating: 0, count: 12)
    }

    /// Resets the chip, checks its ID, writes the configuration, reads it back, starts
    /// conversions and enters RDATAC. Returns the fault, if any (the ECG channels then stay silent
    /// and every status frame reports it).
    public mutating func start<Board: SensorBoard>(_ board: inout Board, rate: DataRate) -> FaultCode? {
        board.delay(microseconds: 150_000)           // power-on: tPOR (2^18 tCLK ≈ 128 ms at 2 MHz)
        command(.reset, &board)
        board.delay(microseconds: 20)                // 18 tCLK after RESET
        command(.stopReadContinuous, &board)         // powers up in RDATAC; registers need SDATAC
        guard readRegister(.id, &board) == Self.deviceID else {
            fault = .notResponding
            return fault
        }
        let configuration = Self.configuration(rate: rate)  // allocated once, at start-up
        for (register, value) in configuration {
            writeRegister(register.rawValue, value, &board)
        }
        for (register, value) in configuration where readRegister(register, &board) != value {
            fault = .configurationFailed
            return fault
        }
        command(.start, &board)
        command(.readContinuous, &board)
        fault = nil
        return nil
    }

    /// Clocks out the sample after DRDY (the caller checked `ecgDataReady`); nil (and counted) when
    /// the status header is wrong.
    public mutating func readSample<Board: SensorBoard>(_ board: inout Board) -> Sample? {
        let sample: Sample? = scratch.withUnsafeMutableBufferPointer { buffer in
            let bytes = UnsafeMutableBufferPointer(rebasing: buffer[0..<Self.sampleLength])
            bytes.update(repeating: 0)
            board.spiTransfer(bytes)
            return Self.parse(UnsafeBufferPointer(bytes))
        }
        if sample == nil { badSamples &+= 1 }
        return sample
    }

    private mutating func command<Board: SensorBoard>(_ c: Command, _ board: inout Board) {
        transfer(count: 1, &board) { $0[0] = c.rawValue }
    }

    /// WREG: opcode 0x40 | address, then (register count − 1), then the value.
    private mutating func writeRegister<Board: SensorBoard>(_ address: UInt8, _ value: UInt8, _ board: inout Board) {
        transfer(count: 3, &board) { b in
            b[0] = 0x40 | address
            b[1] = 0
            b[2] = value
        }
    }

    private mutating func readRegister<Board: SensorBoard>(_ r: Register, _ board: inout Board) -> UInt8 {
        readRegister(r.rawValue, &board)
    }

    /// RREG: opcode 0x20 | address, then (register count − 1); the value comes back in byte 2.
    private mutating func readRegister<Board: SensorBoard>(_ address: UInt8, _ board: inout Board) -> UInt8 {
        transfer(count: 3, &board) { b in
            b[0] = 0x20 | address
            b[1] = 0
            b[2] = 0
        }
        return scratch[2]
    }

    private mutating func transfer<Board: SensorBoard>(count: Int, _ board: inout Board,
                                                       _ fill: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
        scratch.withUnsafeMutableBufferPointer { buffer in
            let bytes = UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
            fill(bytes)
            board.spiTransfer(bytes)
        }
    }
}
