/// Device status (type 0x04): electrode contact, power, device-side losses and sensor faults.
/// Sent periodically and whenever lead-off or a fault changes.
///
/// Payload: lead-off bitmap (u16), battery percent (u8), power flags (u8), samples dropped on the
/// device since boot (u32), fault count (u8), then 2 bytes per fault: sensor (u8), code (u8).
public struct DeviceStatus: Equatable, Sendable {
    /// Electrodes that have lost contact.
    public var leadOff: LeadOff
    /// Battery charge 0...100 %, or `DeviceStatus.batteryUnknown`.
    public var batteryPercent: UInt8
    /// Power source and charging.
    public var power: PowerFlags
    /// Samples the device discarded since boot (front-end FIFO overrun, full ring buffer): losses
    /// that never reached the link, so the sequence number cannot reveal them.
    public var droppedSamples: UInt32
    /// Active sensor faults, at most 255.
    public var faults: [SensorFault]

    /// Battery byte meaning "no battery, or charge unknown".
    public static let batteryUnknown: UInt8 = 255

    /// Creates a status payload.
    public init(leadOff: LeadOff, batteryPercent: UInt8, power: PowerFlags, droppedSamples: UInt32, faults: [SensorFault]) {
        self.leadOff = leadOff
        self.batteryPercent = batteryPercent
        self.power = power
        self.droppedSamples = droppedSamples
        self.faults = faults
    }
}

/// Lead-off bitmap: a set bit means that electrode has no contact. Bits 0-4 are the ADS1292R's
/// LOFF_STAT bits 0-4 as read from the chip; bits 5-15 are for other front ends.
public struct LeadOff: OptionSet, Equatable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Channel 1 positive input (IN1P).
    public static let channel1Positive = LeadOff(rawValue: 1 << 0)
    /// Channel 1 negative input (IN1N).
    public static let channel1Negative = LeadOff(rawValue: 1 << 1)
    /// Channel 2 positive input (IN2P).
    public static let channel2Positive = LeadOff(rawValue: 1 << 2)
    /// Channel 2 negative input (IN2N).
    public static let channel2Negative = LeadOff(rawValue: 1 << 3)
    /// Right-leg drive electrode.
    public static let rightLegDrive = LeadOff(rawValue: 1 << 4)
}

/// Power flags; bits 2-7 are reserved (senders write 0, receivers ignore them).
public struct PowerFlags: OptionSet, Equatable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Running from external power.
    public static let externalPower = PowerFlags(rawValue: 1 << 0)
    /// The battery is charging.
    public static let charging = PowerFlags(rawValue: 1 << 1)
}

/// One active sensor fault.
public struct SensorFault: Equatable, Sendable {
    /// Which sensor.
    public var sensor: SensorID
    /// What is wrong with it.
    public var code: FaultCode

    /// Creates a fault.
    public init(sensor: SensorID, code: FaultCode) {
        self.sensor = sensor
        self.code = code
    }
}

/// A sensor of the device. Unknown codes decode as their raw value.
public struct SensorID: RawRepresentable, Equatable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// ECG / respiration analog front end (ADS1292R).
    public static let ecgFrontEnd = SensorID(rawValue: 1)
    /// Pulse oximeter (MAX30102).
    public static let pulseOximeter = SensorID(rawValue: 2)
    /// Temperature sensor.
    public static let thermometer = SensorID(rawValue: 3)
}

/// What is wrong with a sensor. Unknown codes decode as their raw value.
public struct FaultCode: RawRepresentable, Equatable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// No answer on its bus.
    public static let notResponding = FaultCode(rawValue: 1)
    /// Its configuration did not read back as written.
    public static let configurationFailed = FaultCode(rawValue: 2)
    /// The signal sits at the converter's limit.
    public static let saturated = FaultCode(rawValue: 3)
    /// Its FIFO overflowed; samples were lost (see `droppedSamples`).
    public static let overrun = FaultCode(rawValue: 4)
    /// No tissue contact (e.g. no finger on the oximeter).
    public static let noContact = FaultCode(rawValue: 5)
    /// Its self-test failed.
    public static let selfTestFailed = FaultCode(rawValue: 6)
}

extension DeviceStatus: PayloadCoding {
    static var frameType: FrameType { .status }

    static let fixedLength = 9

    var payloadLength: Int { Self.fixedLength + faults.count * 2 }

    func validate() throws(SensorLinkError) {
        if faults.count > 255 {
            throw SensorLinkError(.tooManyItems, found: faults.count, expected: 255, frameType: FrameType.status.rawValue)
        }
    }

    func write(to w: inout FrameWriter) {
        w.u16(leadOff.rawValue)
        w.u8(batteryPercent)
        w.u8(power.rawValue)
        w.u32(droppedSamples)
        w.u8(UInt8(faults.count))
        for f in faults {
            w.u8(f.sensor.rawValue)
            w.u8(f.code.rawValue)
        }
    }

    static func read(_ r: inout ByteReader, length: Int) throws(SensorLinkError) -> DeviceStatus {
        guard length >= fixedLength else { throw malformed(.status, length, fixedLength) }
        let leadOff = LeadOff(rawValue: r.u16())
        let battery = r.u8()
        let power = PowerFlags(rawValue: r.u8())
        let dropped = r.u32()
        let count = Int(r.u8())
        let expected = fixedLength + count * 2
        guard length == expected else { throw malformed(.status, length, expected) }
        var faults: [SensorFault] = []
        faults.reserveCapacity(count)
        for _ in 0..<count {
            faults.append(SensorFault(sensor: SensorID(rawValue: r.u8()), code: FaultCode(rawValue: r.u8())))
        }
        return DeviceStatus(leadOff: leadOff, batteryPercent: battery, power: power, droppedSamples: dropped, faults: faults)
    }
}
