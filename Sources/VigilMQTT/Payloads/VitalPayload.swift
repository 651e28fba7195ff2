import Foundation

/// `vigil/v1/<site>/<device>/vitals/<kind>` (retained, with an MQTT 5 message expiry so a stale
/// value vanishes from the broker): the latest value of one vital sign.
public struct VitalPayload: MQTTPayload, Hashable {
    /// The vital (`hr`, `rr`, `spo2`, `temp`, `sbp`, `dbp`); equals the topic's last level.
    public var kind: String
    /// The value, in `unit`.
    public var value: Double
    /// UCUM unit: `/min` for HR and RR, `%` for SpO2, `Cel` for temperature, `mm[Hg]` for pressure.
    public var unit: String
    /// When it was measured (end of the window it was computed over).
    public var time: Date
    /// Signal quality index of the window it came from, 0 (unusable) ... 1 (clean).
    public var quality: Double
    /// Where it came from: a channel or sensor (`ecg`, `ppg`, `spo2-probe`) or `manual`.
    public var source: String

    /// A vital value.
    public init(kind: String, value: Double, unit: String, time: Date, quality: Double, source: String) {
        self.kind = kind
        self.value = value
        self.unit = unit
        self.time = time
        self.quality = quality
        self.source = source
    }
}
