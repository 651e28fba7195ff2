import SensorLink

/// Driver for the Maxim MAX30102 pulse oximeter on I2C (7-bit address 0x57), in SpO2 mode: red
/// and infrared LEDs, 100 samples/s, 411 µs pulses (18-bit ADC). Registers and FIFO behaviour
/// follow the MAX30102 datasheet (19-7740): a 32-sample FIFO with 5-bit write and read pointers and
/// an overflow counter; each SpO2-mode sample is 6 bytes, red then IR, 3 bytes each, most
/// significant first, of which bits 17:0 hold the value.
public struct MAX30102 {
    /// 7-bit I2C address.
    public static let address: UInt8 = 0x57
    /// PART_ID register value.
    public static let partID: UInt8 = 0x15
    /// FIFO depth in samples.
    public static let fifoDepth = 32
    /// Bytes per SpO2-mode sample (red and IR, 3 bytes each).
    public static let sampleLength = 6

    /// Register addresses.
    public enum Register: UInt8, Sendable {
        case interruptStatus1 = 0x00, interruptStatus2 = 0x01, interruptEnable1 = 0x02, interruptEnable2 = 0x03
        case fifoWritePointer = 0x04, overflowCounter = 0x05, fifoReadPointer = 0x06, fifoData = 0x07
        case fifoConfig = 0x08, modeConfig = 0x09, spo2Config = 0x0A, led1Amplitude = 0x0C, led2Amplitude = 0x0D
        case partID = 0xFF
    }

    /// INT_STATUS1 bits.
    public enum Interrupt {
        /// FIFO almost full (A_FULL).
        public static let almostFull: UInt8 = 0x80
        /// New sample ready (PPG_RDY).
        public static let sampleReady: UInt8 = 0x40
        /// Ambient light cancellation overflow (ALC_OVF): the photodiode is saturated.
        public static let ambientOverflow: UInt8 = 0x20
        /// Power ready: the chip (re)started and lost its configuration.
        public static let powerReady: UInt8 = 0x01
    }

    /// Configuration written at start-up, readable back except the reset bit.
    /// - FIFO_CONFIG = 0x0F: no averaging, rollover off (so a full FIFO keeps its samples and the
    ///   overflow counter counts what was lost), A_FULL when 15 slots remain (17 samples unread).
    /// - MODE_CONFIG = 0x03: SpO2 mode (red and IR).
    /// - SPO2_CONFIG = 0x27: ADC range 4096 nA (01), 100 samples/s (001), 411 µs pulses, 18 bits (11).
    /// - LED1_PA (red) = LED2_PA (IR) = 0x24: about 7.2 mA.
    /// - INT_ENABLE1 = 0xE0: PPG_RDY (so each sample is drained, and dated, as it arrives), A_FULL
    ///   (a safety net when the loop fell behind) and ALC_OVF.
    public static let fifoConfig: UInt8 = 0x0F
    public static let modeSpO2: UInt8 = 0x03
    public static let spo2Config: UInt8 = 0x27
    public static let ledAmplitude: UInt8 = 0x24
    public static let interruptEnable: UInt8 = 0xE0

    /// The 18-bit value of a 3-byte FIFO word (bits 23:18 are not part of the sample).
    @inline(__always)
    public static func sample18(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8) -> UInt32 {
        (UInt32(b0) << 16 | UInt32(b1) << 8 | UInt32(b2)) & 0x3FFFF
    }

    /// Samples waiting in the FIFO given the pointer registers. The pointers are 5 bits, so equal
    /// pointers mean empty or full; the overflow counter is non-zero only when the FIFO is full
    /// (rollover off), which settles it.
    public static func available(writePointer: UInt8, readPointer: UInt8, overflow: UInt8) -> Int {
        if overflow & 0x1F != 0 { return fifoDepth }
        return Int((writePointer &- readPointer) & 0x1F)
    }

    /// What one FIFO drain found.
    public struct Drain: Equatable, Sendable {
        /// Samples read and passed on.
        public var samples: Int
        /// Samples the chip lost since the last drain (overflow counter; it saturates at 31).
        public var lost: Int
        /// INT_STATUS1 when the drain was triggered by the interrupt line, else 0.
        public var interrupts: UInt8
        /// False when the chip did not answer on the bus.
        public var ok: Bool
    }

    /// Why start-up failed, as a SensorLink fault code.
    public private(set) var fault: FaultCode?
    /// Samples lost in the chip's FIFO since boot.
    public private(set) var lostSamples: UInt32 = 0
    /// Up to 8 samples per I2C burst (48 bytes), allocated once.
    private var scratch: [UInt8]
    private static let burstSamples = 8

    /// A driver; nothing is sent until `start`.
    public init() {
        scratch = [UInt8](repeating: 0, count: Self.burstSamples * Self.sampleLength)
    }

    /// Resets the chip, checks PART_ID, writes the configuration and reads it back, clears the
    /// FIFO pointers. Returns the fault, if any.
    public mutating func start<Board: SensorBoard>(_ board: inout Board) -> FaultCode? {
        guard write(.modeConfig, 0x40, &board) else { return failed(.notResponding) }  // RESET bit
        board.delay(microseconds: 1_000)
        guard read(.partID, &board) == Self.partID else { return failed(.notResponding) }
        _ = read(.interruptStatus1, &board)  // clears PWR_RDY
        let settings: [(Register, UInt8)] = [
            (.fifoConfig, Self.fifoConfig), (.spo2Config, Self.spo2Config),
            (.led1Amplitude, Self.ledAmplitude), (.led2Amplitude, Self.ledAmplitude),
            (.interruptEnable1, Self.interruptEnable),
        ]
        for (register, value) in settings {
            guard write(register, value, &board) else { return failed(.notResponding) }
        }
        for (register, value) in settings where read(register, &board) != value {
            return failed(.configurationFailed)
        }
        // Empty the FIFO, then start sampling: the pointers move from here on, so they are not
        // read back.
        for register in [Register.fifoWritePointer, .overflowCounter, .fifoReadPointer] {
            guard write(register, 0, &board) else { return failed(.notResponding) }
        }
        guard write(.modeConfig, Self.modeSpO2, &board), read(.modeConfig, &board) == Self.modeSpO2 else {
            return failed(.configurationFailed)
        }
        fault = nil
        return nil
    }

    /// Reads INT_STATUS1 (which clears it and releases the INT line).
    public mutating func readInterrupts<Board: SensorBoard>(_ board: inout Board) -> UInt8? {
        read(.interruptStatus1, &board)
    }

    /// Reads every sample waiting in the FIFO, oldest first, and hands each (red, IR) pair to
    /// `sink` together with how many samples were waiting in all (so the caller can date them).
    public mutating func drain<Board: SensorBoard>(_ board: inout Board,
                                                   _ sink: (_ red: UInt32, _ infrared: UInt32, _ position: Int, _ count: Int) -> Void) -> Drain {
        var pointers: (UInt8, UInt8, UInt8) = (0, 0, 0)
        let ok = scratch.withUnsafeMutableBufferPointer { buffer in
            // FIFO_WR_PTR, OVF_COUNTER and FIFO_RD_PTR are consecutive: one burst reads all three.
            let regs = UnsafeMutableBufferPointer(rebasing: buffer[0..<3])
            guard board.i2cRead(address: Self.address, register: Register.fifoWritePointer.rawValue, into: regs) else { return false }
            pointers = (regs[0], regs[1], regs[2])
            return true
        }
        guard ok else { return Drain(samples: 0, lost: 0, interrupts: 0, ok: false) }
        let lost = Int(pointers.1 & 0x1F)
        lostSamples &+= UInt32(lost)
        let count = Self.available(writePointer: pointers.0, readPointer: pointers.2, overflow: pointers.1)
        var done = 0
        while done < count {
            let n = min(Self.burstSamples, count - done)
            let burstOK = scratch.withUnsafeMutableBufferPointer { buffer in
                let bytes = UnsafeMutableBufferPointer(rebasing: buffer[0..<(n * Self.sampleLength)])
                guard board.i2cRead(address: Self.address, register: Register.fifoData.rawValue, into: bytes) else { return false }
                for i in 0..<n {
                    let o = i * Self.sampleLength
                    sink(Self.sample18(bytes[o], bytes[o + 1], bytes[o + 2]),
                         Self.sample18(bytes[o + 3], bytes[o + 4], bytes[o + 5]), done + i, count)
                }
                return true
            }
            guard burstOK else { return Drain(samples: done, lost: lost, interrupts: 0, ok: false) }
            done += n
        }
        return Drain(samples: done, lost: lost, interrupts: 0, ok: true)
    }

    private mutating func failed(_ code: FaultCode) -> FaultCode {
        fault = code
        return code
    }

    private mutating func write<Board: SensorBoard>(_ register: Register, _ value: UInt8, _ board: inout Board) -> Bool {
        scratch[0] = register.rawValue
        scratch[1] = value
        return scratch.withUnsafeBufferPointer { board.i2cWrite(address: Self.address, UnsafeBufferPointer(rebasing: $0[0..<2])) }
    }

    private mutating func read<Board: SensorBoard>(_ register: Register, _ board: inout Board) -> UInt8? {
        let ok = scratch.withUnsafeMutableBufferPointer {
            board.i2cRead(address: Self.address, register: register.rawValue, into: UnsafeMutableBufferPointer(rebasing: $0[0..<1]))
        }
        return ok ? scratch[0] : nil
    }
}
