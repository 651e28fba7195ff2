/// Numeric vitals (type 0x03): values the device computed, measured at the frame's timestamp.
///
/// Payload: reading count (u8), then 8 bytes per reading (see `VitalReading`).
public struct Vitals: Equatable, Sendable {
    /// The readings, at most 255.
    public var readings: [VitalReading]

    /// Creates a vitals payload.
    public init(_ readings: [VitalReading]) {
        self.readings = readings
    }
}

/// One numeric vital. 8 bytes on the wire: kind (u8), unit (u8), exponent (i8), quality (u8),
/// mantissa (i32). The value is `mantissa × 10^exponent` in `unit`, exact in decimal
/// (36.8 °C = 368 × 10^-1).
public struct VitalReading: Equatable, Sendable {
    /// What was measured.
    public var kind: VitalKind
    /// Its unit.
    public var unit: Unit
    /// The value's decimal digits.
    public var mantissa: Int32
    /// The value's power of ten.
    public var exponent: Int8
    /// Signal quality 0 (unusable) ... 100 (excellent), or `VitalReading.qualityUnknown`.
    public var quality: UInt8

    /// Quality byte meaning "the device does not assess quality".
    public static let qualityUnknown: UInt8 = 255

    /// Creates a reading.
    public init(kind: VitalKind, unit: Unit, mantissa: Int32, exponent: Int8 = 0, quality: UInt8 = qualityUnknown) {
        self.kind = kind
        self.unit = unit
        self.mantissa = mantissa
        self.exponent = exponent
        self.quality = quality
    }

    /// `mantissa × 10^exponent`.
    public var value: Double {
        // One multiplication or division by an exact power of ten, so 368e-1 is the double
        // nearest to 36.8.
        var power = 1.0
        for _ in 0..<(exponent < 0 ? -Int(exponent) : Int(exponent)) { power *= 10 }
        return exponent < 0 ? Double(mantissa) / power : Double(mantissa) * power
    }

    static let wireLength = 8
}

/// What a vital reading measures. Unknown codes decode as their raw value.
public struct VitalKind: RawRepresentable, Equatable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Heart rate from the ECG (/min).
    public static let heartRate = VitalKind(rawValue: 1)
    /// Pulse rate from the PPG (/min).
    public static let pulseRate = VitalKind(rawValue: 2)
    /// Peripheral oxygen saturation SpO2 (%).
    public static let spo2 = VitalKind(rawValue: 3)
    /// Respiratory rate (/min).
    public static let respiratoryRate = VitalKind(rawValue: 4)
    /// Body temperature (°C).
    public static let temperature = VitalKind(rawValue: 5)
    /// Systolic blood pressure (mmHg).
    public static let systolicPressure = VitalKind(rawValue: 6)
    /// Diastolic blood pressure (mmHg).
    public static let diastolicPressure = VitalKind(rawValue: 7)
    /// Mean arterial pressure (mmHg).
    public static let meanPressure = VitalKind(rawValue: 8)
    /// PPG perfusion index (%).
    public static let perfusionIndex = VitalKind(rawValue: 9)
}

extension Vitals: PayloadCoding {
    static var frameType: FrameType { .vitals }

    var payloadLength: Int { 1 + readings.count * VitalReading.wireLength }

    func validate() throws(SensorLinkError) {
        if readings.count > 255 {
            throw SensorLinkError(.tooManyItems, found: readings.count, expected: 255, frameType: FrameType.vitals.rawValue)
        }
    }

    func write(to w: inout FrameWriter) {
        w.u8(UInt8(readings.count))
        for v in readings {
            w.u8(v.kind.rawValue)
            w.u8(v.unit.rawValue)
            w.i8(v.exponent)
            w.u8(v.quality)
            w.i32(v.mantissa)
        }
    }

    static func read(_ r: inout ByteReader, length: Int) throws(SensorLinkError) -> Vitals {
        guard length >= 1 else { throw malformed(.vitals, length, 1) }
        let count = Int(r.u8())
        let expected = 1 + count * VitalReading.wireLength
        guard length == expected else { throw malformed(.vitals, length, expected) }
        var readings: [VitalReading] = []
        readings.reserveCapacity(count)
        for _ in 0..<count {
            let kind = VitalKind(rawValue: r.u8())
            let unit = Unit(rawValue: r.u8())
            let exponent = r.i8()
            let quality = r.u8()
            let mantissa = r.i32()
            readings.append(VitalReading(kind: kind, unit: unit, mantissa: mantissa, exponent: exponent, quality: quality))
        }
        return Vitals(readings)
    }
}
