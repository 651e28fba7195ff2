// Host-only: build.sh leaves Simulation/ out of the firmware image.
import SensorLink

/// A board whose two chips are emulated at register level, on a virtual clock, so the firmware
/// logic runs unchanged on the host (tests, `sensor-sim`).
///
/// - ADS1292R on SPI: opcodes (RESET, START, STOP, RDATAC, SDATAC, RREG, WREG), the register file
///   with its read-only ID and LOFF_STAT, DRDY asserted when a sample is latched and released by
///   the next transfer, and the 72-bit RDATAC readout (status `1100 LOFF_STAT GPIO 0…`, two 24-bit
///   two's complement channels). A sample not read before the next one is overwritten (counted in
///   `ecgSamplesOverwritten`), as on the chip, which has no FIFO.
/// - MAX30102 on I2C at 0x57: registers with auto-increment, RESET, SpO2 mode start, the 32-sample
///   FIFO with 5-bit pointers, rollover off (a full FIFO loses new samples and counts them in the
///   saturating overflow counter), FIFO_DATA reads that pop a sample every 6 bytes, A_FULL and
///   PPG_RDY interrupt flags cleared by reading INT_STATUS1, and the INT line.
/// - UART: collects bytes through a 256-byte buffer emptied at `uartBytesPerSecond` (921600 baud
///   8N1 = 92160 B/s) when set.
///
/// Samples come from `ecgSignal` and `ppgSignal`, called with the sample index; returning nil ends
/// that stream (the chip stops producing data ready). Sample k of a chip is ready (k + 1) periods
/// after its START (ADS1292R) or SpO2-mode write (MAX30102): a conversion takes a period.
public final class SimulatedBoard: SensorBoard {
    /// Virtual time, µs.
    public private(set) var now: UInt64 = 0
    /// Respiration (channel 1) and ECG (channel 2) codes of ADS1292R sample `index`.
    public var ecgSignal: (_ index: UInt64) -> (respiration: Int32, ecg: Int32)?
    /// Red and IR counts of MAX30102 sample `index` (bits above 17 are dropped).
    public var ppgSignal: (_ index: UInt64) -> (red: UInt32, infrared: UInt32)?
    /// The pace of DRDY. The chip's own rate comes from CONFIG1; a replay may pace it at the
    /// recording's rate instead (nil: follow CONFIG1).
    public var ecgRateOverride: SampleRate?
    /// The MAX30102's sample rate (its SPO2_SR setting the firmware writes is 100 Hz).
    public var ppgRate = SampleRate(hertz: 100)
    /// LOFF_STAT bits 0-4 the front end reports from now on.
    public var leadOff: UInt16 = 0
    /// False: the ADS1292R does not answer (MISO floats high).
    public var ecgPresent = true
    /// False: the MAX30102 does not acknowledge its address.
    public var oximeterPresent = true
    /// UART pacing; nil accepts everything at once.
    public var uartBytesPerSecond: Int? = 92_160
    /// Bytes the simulated UART buffers before the line (a DMA buffer's worth).
    public var uartBufferBytes = 256
    /// Battery reported to the firmware.
    public var battery: UInt8 = 255

    /// ADS1292R samples latched so far.
    public private(set) var ecgSamplesProduced: UInt64 = 0
    /// ADS1292R samples overwritten before the firmware read them.
    public private(set) var ecgSamplesOverwritten: UInt64 = 0
    /// MAX30102 samples produced (pushed or lost).
    public private(set) var ppgSamplesProduced: UInt64 = 0
    /// MAX30102 samples lost to a full FIFO.
    public private(set) var ppgSamplesLost: UInt64 = 0
    /// True once a signal returned nil.
    public private(set) var ecgEnded = false
    public private(set) var ppgEnded = false

    // ADS1292R state
    /// The ADS1292R register file (0x00...0x0B).
    public private(set) var adsRegisters: [UInt8]
    private var adsContinuous = true  // RDATAC is the power-on mode
    private var adsConverting = false
    private var adsDataReady = false
    private var adsLatched = [UInt8](repeating: 0, count: 9)
    private var adsStart: UInt64 = 0
    private var adsIndexAtStart: UInt64 = 0

    // MAX30102 state
    /// The MAX30102 register file.
    public private(set) var maxRegisters: [UInt8]
    private var fifo = [(UInt32, UInt32)](repeating: (0, 0), count: 32)
    private var fifoCount = 0
    private var writePointer = 0
    private var readPointer = 0
    private var overflow = 0
    private var fifoByte = 0
    private var ppgStart: UInt64 = 0
    private var ppgIndexAtStart: UInt64 = 0
    private var ppgRunning = false

    // UART
    private var output: [UInt8] = []
    private var uartLevel = 0.0
    private var uartLastTime: UInt64 = 0

    /// A board with both chips present and silent signals.
    public init(ecgSignal: @escaping (UInt64) -> (respiration: Int32, ecg: Int32)? = { _ in (0, 0) },
                ppgSignal: @escaping (UInt64) -> (red: UInt32, infrared: UInt32)? = { _ in (100_000, 120_000) }) {
        self.ecgSignal = ecgSignal
        self.ppgSignal = ppgSignal
        adsRegisters = Self.adsDefaults
        maxRegisters = Self.maxDefaults()
    }

    private static let adsDefaults: [UInt8] = [0x73, 0x02, 0x80, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x07, 0x0C]

    private static func maxDefaults() -> [UInt8] {
        var r = [UInt8](repeating: 0, count: 256)
        r[0x00] = MAX30102.Interrupt.powerReady
        r[0xFE] = 0x03
        r[0xFF] = MAX30102.partID
        return r
    }

    // MARK: - Clock

    /// Moves virtual time forward to `time`, producing every sample due on the way.
    public func advance(to time: UInt64) {
        guard time >= now else { return }
        while let t = nextSampleTime, t <= time {
            now = t
            produceDueSamples()
        }
        now = time
    }

    /// The device time of the next sample either chip will produce, if any.
    public var nextSampleTime: UInt64? {
        var next: UInt64?
        if adsConverting && !ecgEnded {
            next = adsStart + (ecgSamplesProduced - adsIndexAtStart + 1) * 1_000_000_000 / UInt64(ecgRate.milliHertz)
        }
        if ppgRunning && !ppgEnded {
            let t = ppgStart + (ppgSamplesProduced - ppgIndexAtStart + 1) * 1_000_000_000 / UInt64(ppgRate.milliHertz)
            next = min(next ?? t, t)
        }
        return next
    }

    private var ecgRate: SampleRate {
        ecgRateOverride ?? SampleRate(hertz: 125 << UInt32(adsRegisters[1] & 0x07))
    }

    private func produceDueSamples() {
        if adsConverting && !ecgEnded,
           adsStart + (ecgSamplesProduced - adsIndexAtStart + 1) * 1_000_000_000 / UInt64(ecgRate.milliHertz) <= now {
            if let s = ecgSignal(ecgSamplesProduced) {
                if adsDataReady { ecgSamplesOverwritten += 1 }
                let status = UInt32(0xC0_0000) | UInt32(leadOff & 0x1F) << 15
                adsRegisters[8] = UInt8(leadOff & 0x1F)
                put24(status, at: 0)
                put24(UInt32(bitPattern: clamp24(s.respiration)), at: 3)
                put24(UInt32(bitPattern: clamp24(s.ecg)), at: 6)
                adsDataReady = true
                ecgSamplesProduced += 1
            } else {
                ecgEnded = true
            }
        }
        if ppgRunning && !ppgEnded,
           ppgStart + (ppgSamplesProduced - ppgIndexAtStart + 1) * 1_000_000_000 / UInt64(ppgRate.milliHertz) <= now {
            if let s = ppgSignal(ppgSamplesProduced) {
                if fifoCount == 32 {
                    overflow = min(overflow + 1, 31)
                    ppgSamplesLost += 1
                } else {
                    fifo[writePointer] = (s.red & 0x3FFFF, s.infrared & 0x3FFFF)
                    writePointer = (writePointer + 1) & 31
                    fifoCount += 1
                }
                maxRegisters[0] |= MAX30102.Interrupt.sampleReady
                if 32 - fifoCount <= Int(maxRegisters[8] & 0x0F) { maxRegisters[0] |= MAX30102.Interrupt.almostFull }
                ppgSamplesProduced += 1
            } else {
                ppgEnded = true
            }
        }
    }

    private func clamp24(_ v: Int32) -> Int32 { min(max(v, -0x80_0000), 0x7F_FFFF) }

    private func put24(_ v: UInt32, at i: Int) {
        adsLatched[i] = UInt8(truncatingIfNeeded: v >> 16)
        adsLatched[i + 1] = UInt8(truncatingIfNeeded: v >> 8)
        adsLatched[i + 2] = UInt8(truncatingIfNeeded: v)
    }

    // MARK: - UART

    /// Takes the bytes the firmware has sent since the last call.
    public func takeOutput() -> [UInt8] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    // MARK: - SensorBoard

    public func microseconds() -> UInt64 { now }

    public func delay(microseconds: UInt32) { advance(to: now + UInt64(microseconds)) }

    public func batteryPercent() -> UInt8 { battery }

    public func uartWrite(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let rate = uartBytesPerSecond else {
            output.append(contentsOf: bytes)
            return bytes.count
        }
        // A transmit FIFO of `uartBufferBytes` (think DMA buffer) that the line empties at `rate`:
        // it accepts what fits, so the long-run throughput is exactly the line's.
        uartLevel = max(0, uartLevel - Double(now - uartLastTime) * Double(rate) / 1_000_000)
        uartLastTime = now
        let n = min(bytes.count, max(0, uartBufferBytes - Int(uartLevel.rounded(.up))))
        output.append(contentsOf: bytes.prefix(n))
        uartLevel += Double(n)
        return n
    }

    public func ecgDataReady() -> Bool { ecgPresent && adsDataReady }

    public func oximeterInterrupt() -> Bool {
        oximeterPresent && maxRegisters[0] & maxRegisters[2] != 0
    }

    public func spiTransfer(_ bytes: UnsafeMutableBufferPointer<UInt8>) {
        guard ecgPresent else {
            for i in bytes.indices { bytes[i] = 0xFF }
            return
        }
        let readingData = adsContinuous && adsDataReady
        adsDataReady = false  // DRDY goes high on the first SCLK
        var i = 0
        while i < bytes.count {
            let op = bytes[i]
            bytes[i] = readingData && i < 9 ? adsLatched[i] : 0
            i += 1
            switch op {
            case ADS1292R.Command.reset.rawValue:
                adsRegisters = Self.adsDefaults
                adsContinuous = true
                adsConverting = false
            case ADS1292R.Command.start.rawValue:
                adsConverting = true
                adsStart = now
                adsIndexAtStart = ecgSamplesProduced
            case ADS1292R.Command.stop.rawValue: adsConverting = false
            case ADS1292R.Command.readContinuous.rawValue: adsContinuous = true
            case ADS1292R.Command.stopReadContinuous.rawValue: adsContinuous = false
            case 0x20...0x2F, 0x40...0x4F:
                // RREG/WREG: the next byte is (count − 1); ignored in RDATAC mode.
                guard i < bytes.count else { break }
                let count = Int(bytes[i]) + 1
                bytes[i] = readingData && i < 9 ? adsLatched[i] : 0
                i += 1
                var address = Int(op & 0x1F)
                for _ in 0..<count where i < bytes.count {
                    let value = bytes[i]
                    if adsContinuous {
                        bytes[i] = readingData && i < 9 ? adsLatched[i] : 0
                    } else if op < 0x40 {
                        bytes[i] = address < adsRegisters.count ? adsRegisters[address] : 0
                    } else {
                        // ID (0) and LOFF_STAT (8) are read-only.
                        if address < adsRegisters.count && address != 0 && address != 8 { adsRegisters[address] = value }
                        bytes[i] = 0
                    }
                    address += 1
                    i += 1
                }
            default: break
            }
        }
    }

    public func i2cWrite(address: UInt8, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard oximeterPresent && address == MAX30102.address else { return false }
        guard var register = bytes.first.map(Int.init) else { return true }
        for value in bytes.dropFirst() {
            writeMax(register, value)
            if register != 0x07 { register = (register + 1) & 0xFF }
        }
        return true
    }

    public func i2cRead(address: UInt8, register: UInt8, into: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        guard oximeterPresent && address == MAX30102.address else { return false }
        var r = Int(register)
        for i in into.indices {
            into[i] = readMax(r)
            if r != 0x07 { r = (r + 1) & 0xFF }
        }
        return true
    }

    private func writeMax(_ register: Int, _ value: UInt8) {
        switch register {
        case 0x00, 0x01, 0xFE, 0xFF: break  // read-only
        case 0x04: writePointer = Int(value & 31); recount()
        case 0x05: overflow = Int(value & 31)
        case 0x06: readPointer = Int(value & 31); recount()
        case 0x09:
            if value & 0x40 != 0 {
                maxRegisters = Self.maxDefaults()
                writePointer = 0; readPointer = 0; overflow = 0; fifoCount = 0; fifoByte = 0
                ppgRunning = false
                return
            }
            maxRegisters[0x09] = value
            let running = value & 0x80 == 0 && value & 0x07 == 0x03
            if running && !ppgRunning {
                ppgStart = now
                ppgIndexAtStart = ppgSamplesProduced
            }
            ppgRunning = running
        default: maxRegisters[register] = value
        }
    }

    private func recount() {
        fifoCount = (writePointer - readPointer) & 31
        fifoByte = 0
    }

    private func readMax(_ register: Int) -> UInt8 {
        switch register {
        case 0x00:
            defer { maxRegisters[0] = 0 }
            return maxRegisters[0]
        case 0x04: return UInt8(writePointer)
        case 0x05: return UInt8(overflow)
        case 0x06: return UInt8(readPointer)
        case 0x07:
            guard fifoCount > 0 else { return 0 }
            let (red, ir) = fifo[readPointer]
            let word = fifoByte < 3 ? red : ir
            let shift = UInt32(2 - fifoByte % 3) * 8
            fifoByte += 1
            if fifoByte == 6 {
                fifoByte = 0
                readPointer = (readPointer + 1) & 31
                fifoCount -= 1
                overflow = 0  // the chip clears it when a sample is popped
            }
            return UInt8(truncatingIfNeeded: word >> shift)
        default: return maxRegisters[register]
        }
    }
}
