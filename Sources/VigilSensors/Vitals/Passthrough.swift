import SensorLink

/// Vitals the bedside devices measure themselves (temperature, non-invasive blood pressure),
/// passed through with a plausibility check so a corrupt reading never reaches the alarms as a
/// number. Readings arrive as SensorLink numeric vitals.
public enum PassthroughVital: Sendable, Hashable {
    /// Body temperature in °C.
    case temperature(celsius: Double)
    /// Non-invasive blood pressure in mmHg (any part the device sent).
    case bloodPressure(systolic: Double?, diastolic: Double?, mean: Double?)

    /// Plausible physiological ranges: readings outside them are refused as device errors.
    static let temperatureRange = 25.0...45.0
    static let pressureRange = 10.0...300.0

    /// The pass-through vitals in `vitals` (temperature and NIBP readings), refusing readings with an
    /// unexpected unit, a value outside the plausible range, or device quality 0.
    public static func from(_ vitals: Vitals) throws(SensorsError) -> [PassthroughVital] {
        var out: [PassthroughVital] = []
        var s: Double? = nil, d: Double? = nil, m: Double? = nil
        for (k, r) in vitals.readings.enumerated() {
            let v = r.value
            func check(_ unit: Unit, _ range: ClosedRange<Double>, _ what: String) throws(SensorsError) {
                guard r.unit == unit else { throw SensorsError(.invalidValue, "vitals reading \(k): \(what) in unit \(r.unit.rawValue), expected \(unit.rawValue)") }
                guard range.contains(v) else { throw SensorsError(.invalidValue, "vitals reading \(k): \(what) \(v) is outside \(range.lowerBound)…\(range.upperBound)") }
                guard r.quality != 0 else { throw SensorsError(.invalidValue, "vitals reading \(k): \(what) flagged unusable by the device (quality 0)") }
            }
            switch r.kind {
            case .temperature: try check(.celsius, temperatureRange, "temperature"); out.append(.temperature(celsius: v))
            case .systolicPressure: try check(.mmHg, pressureRange, "systolic pressure"); s = v
            case .diastolicPressure: try check(.mmHg, pressureRange, "diastolic pressure"); d = v
            case .meanPressure: try check(.mmHg, pressureRange, "mean pressure"); m = v
            default: continue
            }
        }
        if let sys = s, let dia = d, dia >= sys {
            throw SensorsError(.invalidValue, "blood pressure: diastolic \(dia) is not below systolic \(sys)")
        }
        if s != nil || d != nil || m != nil { out.append(.bloodPressure(systolic: s, diastolic: d, mean: m)) }
        return out
    }
}
