// Host-only: build.sh leaves Simulation/ out of the firmware image.
import SensorLink

/// Deterministic test signals in the chips' own counts, for `sensor-sim` and tests.
///
/// - ECG: a PQRST complex from five Gaussian waves at `heartRate` /min, in ADS1292R counts at
///   gain 6 (1 mV ≈ 20 798 counts).
/// - Respiration: a sinusoid at `respiratoryRate` /min (impedance counts).
/// - PPG: red and IR with the same pulse shape at the heart rate, DC levels `redDC`/`infraredDC`,
///   and AC amplitudes chosen so that (AC_red/DC_red)/(AC_ir/DC_ir) = `ratio` (the "ratio of
///   ratios" an SpO2 algorithm calibrates against; 0.5 is about 97 % on common empirical curves).
public struct SyntheticSignals: Sendable {
    /// Heart (and pulse) rate, /min.
    public var heartRate = 72.0
    /// Breaths per minute.
    public var respiratoryRate = 15.0
    /// Ratio of ratios of the PPG.
    public var ratio = 0.5
    /// R-wave amplitude in mV.
    public var rAmplitude = 1.2
    /// ADS1292R counts per mV (gain 6, VREF 2.42 V).
    public var countsPerMillivolt = 1.0 / (2 * 2.42 / 6 / 16_777_216 * 1000)
    /// PPG DC levels (18-bit counts).
    public var redDC = 90_000.0
    public var infraredDC = 110_000.0
    /// IR AC amplitude as a fraction of its DC (perfusion).
    public var infraredPerfusion = 0.02

    /// Defaults as documented.
    public init() {}

    /// ECG in mV at time `t` seconds.
    public func ecgMillivolts(_ t: Double) -> Double {
        let beat = 60.0 / heartRate
        let phase = t.truncatingRemainder(dividingBy: beat) / beat  // 0..1 within a beat
        func wave(_ center: Double, _ width: Double, _ amplitude: Double) -> Double {
            let d = (phase - center) / width
            return amplitude * _exp(-0.5 * d * d)
        }
        return wave(0.20, 0.025, 0.12) + wave(0.345, 0.008, -0.10) + wave(0.36, 0.010, rAmplitude)
            + wave(0.375, 0.008, -0.25) + wave(0.60, 0.045, 0.30)
    }

    /// ADS1292R channel codes (respiration, ECG) of sample `index` at `rate`.
    public func frontEnd(_ index: UInt64, rate: SampleRate) -> (respiration: Int32, ecg: Int32) {
        let t = Double(index) / rate.hertz
        let ecg = (ecgMillivolts(t) * countsPerMillivolt).rounded()
        let resp = (200_000 * _sin(2 * Double.pi * respiratoryRate / 60 * t)).rounded()
        return (Int32(resp), Int32(ecg))
    }

    /// MAX30102 (red, IR) counts of sample `index` at `rate`.
    public func oximeter(_ index: UInt64, rate: SampleRate) -> (red: UInt32, infrared: UInt32) {
        let t = Double(index) / rate.hertz
        let beat = 60.0 / heartRate
        let phase = t.truncatingRemainder(dividingBy: beat) / beat
        // Systolic upstroke and a dicrotic bump; absorption rises, so the detected light falls.
        let d1 = (phase - 0.25) / 0.08, d2 = (phase - 0.55) / 0.10
        let pulse = _exp(-0.5 * d1 * d1) + 0.35 * _exp(-0.5 * d2 * d2)
        let irAC = infraredDC * infraredPerfusion
        let redAC = ratio * irAC / infraredDC * redDC
        return (UInt32((redDC - redAC * pulse).rounded()), UInt32((infraredDC - irAC * pulse).rounded()))
    }
}

// Foundation-free exp/sin for the host build (this file never goes into the firmware).
#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Glibc.sin(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _exp(_ x: Double) -> Double { Darwin.exp(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Darwin.sin(x) }
#endif
