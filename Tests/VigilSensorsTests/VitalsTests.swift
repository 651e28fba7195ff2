import Foundation
import SensorLink
import Testing
@testable import VigilSensors

/// A deterministic pseudo-random generator for test noise.
struct TestNoise {
    var state: UInt64
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53) * 2 - 1
    }
}

/// A synthetic ECG in mV: P, QRS and T waves as Gaussians around known R-peak times, with baseline
/// wander and noise. Returns the samples and the R-peak indexes.
func syntheticECG(fs: Double, seconds: Double, rr: (Int) -> Double, noise: Double = 0.02, seed: UInt64 = 1) -> ([Float], [Int]) {
    var peaks: [Double] = []
    var t = 0.5
    var k = 0
    while t < seconds - 0.5 { peaks.append(t); t += rr(k); k += 1 }
    var rng = TestNoise(state: seed)
    let n = Int(seconds * fs)
    var x = [Float](repeating: 0, count: n)
    let waves: [(dt: Double, a: Double, w: Double)] = [(-0.2, 0.15, 0.025), (-0.025, -0.1, 0.008), (0, 1.2, 0.01), (0.025, -0.25, 0.008), (0.3, 0.3, 0.05)]
    for i in 0..<n {
        let ti = Double(i) / fs
        var v = 0.3 * sin(2 * .pi * 0.2 * ti) + noise * rng.next()
        for p in peaks where abs(ti - p) < 0.6 {
            for w in waves { v += w.a * exp(-pow(ti - p - w.dt, 2) / (2 * w.w * w.w)) }
        }
        x[i] = Float(v)
    }
    return (x, peaks.map { Int(($0 * fs).rounded()) })
}

@Suite struct ECGTests {
    @Test(arguments: [250.0, 360, 500])
    func findsEveryRPeak(_ fs: Double) throws {
        let (x, truth) = syntheticECG(fs: fs, seconds: 60, rr: { 0.8 + 0.1 * sin(Double($0)) })
        var m = try ECGMonitor(sampleRate: fs)
        let beats = m.process(x)
        let tol = Int(0.02 * fs)
        let matched = truth.filter { r in beats.contains { abs($0.index - r) <= tol } }.count
        #expect(matched == truth.count, "found \(matched) of \(truth.count) R peaks")
        #expect(beats.count == truth.count, "\(beats.count) beats for \(truth.count) R peaks")
        let hr = try #require(m.heartRate)
        #expect(abs(hr - 60 / 0.8) < 8)
        #expect(m.quality.isAcceptable)
    }

    @Test func rrAndRateFollowTheRhythm() throws {
        let fs = 500.0
        let (x, _) = syntheticECG(fs: fs, seconds: 30, rr: { _ in 0.6 })
        var m = try ECGMonitor(sampleRate: fs)
        let beats = m.process(x)
        for b in beats.dropFirst(1) {
            #expect(abs(try #require(b.rr) - 0.6) < 0.01)
            #expect(abs(try #require(b.rate) - 100) < 2)
        }
        #expect(abs(try #require(m.heartRate) - 100) < 1)
    }

    @Test func flatLineGatesTheRate() throws {
        let fs = 360.0
        var (x, _) = syntheticECG(fs: fs, seconds: 20, rr: { _ in 0.75 })
        for i in Int(12 * fs)..<x.count { x[i] = 0.2 }
        var m = try ECGMonitor(sampleRate: fs)
        _ = m.process(x.prefix(Int(11 * fs)))
        #expect(m.heartRate != nil)
        _ = m.process(x.dropFirst(Int(11 * fs)))
        #expect(m.heartRate == nil)
        #expect(m.quality.flags.contains(.flatLine))
    }

    @Test func clippingNoiseAndLeadOffAreFlagged() throws {
        let fs = 500.0
        let (x, _) = syntheticECG(fs: fs, seconds: 10, rr: { _ in 0.8 })
        var clipped = try ECGMonitor(sampleRate: fs)
        _ = clipped.process(x.map { max(-0.1, min($0, 0.1)) })
        #expect(clipped.quality.flags.contains(.clipping))
        #expect(clipped.heartRate == nil)

        var rng = TestNoise(state: 7)
        var noisy = try ECGMonitor(sampleRate: fs)
        _ = noisy.process(x.map { $0 + Float(0.8 * rng.next()) })
        #expect(noisy.quality.flags.contains(.noise))

        var off = try ECGMonitor(sampleRate: fs)
        _ = off.process(x)
        #expect(off.heartRate != nil)
        off.leadOff = true
        _ = off.process(x.prefix(Int(fs)))
        #expect(off.quality.flags.contains(.leadOff) && off.heartRate == nil)

        var missing = try ECGMonitor(sampleRate: fs)
        _ = missing.process(x.enumerated().map { $0.offset % 1000 == 999 ? .nan : $0.element })
        #expect(missing.quality.flags.contains(.missing))

        var clean = try ECGMonitor(sampleRate: fs)
        _ = clean.process(x)
        #expect(clean.quality == .good)
    }

    @Test func detectorRecoversAfterSignalLoss() throws {
        let fs = 360.0
        var (x, truth) = syntheticECG(fs: fs, seconds: 40, rr: { _ in 0.7 })
        // Ten seconds of loss with a large artefact at its start.
        for i in Int(10 * fs)..<Int(20 * fs) { x[i] = i < Int(10.2 * fs) ? 5 : 0 }
        var d = try RPeakDetector(sampleRate: fs)
        let beats = d.process(x)
        let after = truth.filter { $0 > Int(23 * fs) }
        let found = after.filter { r in beats.contains { abs($0.index - r) <= 7 } }
        #expect(found.count >= after.count - 1, "\(found.count) of \(after.count) beats after the loss")
    }
}

@Suite struct PPGAndSpO2Tests {
    /// A pulse wave: systolic upstroke, dicrotic notch and diastolic wave, on a DC level.
    static func pulse(_ phase: Double) -> Double {
        exp(-pow((phase - 0.2) / 0.08, 2)) + 0.35 * exp(-pow((phase - 0.55) / 0.1, 2))
    }

    @Test func pulseRate() throws {
        let fs = 100.0
        let period = 60 / 84.0
        var rng = TestNoise(state: 3)
        let x = (0..<Int(60 * fs)).map { i -> Float in
            let t = Double(i) / fs
            return Float(500 + 40 * Self.pulse(t.truncatingRemainder(dividingBy: period) / period) + 10 * sin(2 * .pi * 0.1 * t) + rng.next())
        }
        var m = try PPGMonitor(sampleRate: fs)
        let beats = m.process(x)
        #expect(abs(beats.count - Int(60 / period)) <= 3)
        #expect(abs(try #require(m.pulseRate) - 84) < 1.5)
        m.probeOff = true
        _ = m.process(x.prefix(100))
        #expect(m.pulseRate == nil)
    }

    /// Red and infrared with AC/DC ratios giving ratio-of-ratios `r`, through different DC levels,
    /// drift and noise.
    func oximeter(r: Double, perfusion: Double = 0.02, fs: Double = 100, seconds: Double = 20) -> [(Float, Float)] {
        var rng = TestNoise(state: 11)
        let period = 60 / 72.0
        return (0..<Int(seconds * fs)).map { i in
            let t = Double(i) / fs
            let p = Self.pulse(t.truncatingRemainder(dividingBy: period) / period) - 0.3
            let dcIR = 50_000.0 * (1 + 0.01 * sin(2 * .pi * 0.05 * t)), dcRed = 30_000.0
            let ir = dcIR * (1 + perfusion * p) + 5 * rng.next()
            let red = dcRed * (1 + r * perfusion * p) + 5 * rng.next()
            return (Float(red), Float(ir))
        }
    }

    @Test(arguments: [0.5, 0.7, 1.0, 1.4, 1.8])
    func spo2FromAKnownRatio(_ r: Double) throws {
        var e = try SpO2Estimator(sampleRate: 100)
        for (red, ir) in oximeter(r: r) { e.process(red: red, ir: ir) }
        let ratio = try #require(e.ratio)
        #expect(abs(ratio - r) < 0.03, "R \(ratio) for \(r)")
        let spo2 = try #require(e.spo2)
        #expect(abs(spo2 - min(100, 110 - 25 * r)) < 1, "SpO2 \(spo2) for R \(r)")
    }

    @Test func spo2CalibrationAndGates() throws {
        var custom = try SpO2Estimator(sampleRate: 100, calibration: .init(intercept: 104, slope: 17))
        for (red, ir) in oximeter(r: 1.0) { custom.process(red: red, ir: ir) }
        #expect(abs(try #require(custom.spo2) - 87) < 1)

        var weak = try SpO2Estimator(sampleRate: 100)
        for (red, ir) in oximeter(r: 0.7, perfusion: 0.0001) { weak.process(red: red, ir: ir) }
        #expect(weak.spo2 == nil)

        var off = try SpO2Estimator(sampleRate: 100)
        off.probeOff = true
        for (red, ir) in oximeter(r: 0.7) { off.process(red: red, ir: ir) }
        #expect(off.spo2 == nil && off.ratio != nil)
    }
}

@Suite struct RespirationTests {
    @Test(arguments: [8.0, 15, 30])
    func rateFromAnImpedanceWave(_ bpm: Double) throws {
        let fs = 50.0
        var rng = TestNoise(state: 5)
        var m = try RespirationMonitor(sampleRate: fs)
        for i in 0..<Int(120 * fs) {
            let t = Double(i) / fs
            let phase = 2 * .pi * bpm / 60 * t
            m.process(Float(2 + 0.5 * sin(phase) + 0.15 * sin(2 * phase) + 0.3 * sin(2 * .pi * 0.01 * t) + 0.02 * rng.next()))
        }
        #expect(abs(try #require(m.respirationRate) - bpm) < 0.5)
    }

    @Test func ecgDerivedRespirationFromRAmplitudes() throws {
        // Beats at 75 /min whose R amplitude breathes at 12 /min.
        var edr = try ECGDerivedRespiration(ecgRate: 500, outputRate: 4)
        var m = try RespirationMonitor(sampleRate: 4)
        for k in 0..<150 {
            let t = 0.8 * Double(k)
            let beat = Beat(index: Int(t * 500), rr: k == 0 ? nil : 0.8, amplitude: Float(1 + 0.1 * sin(2 * .pi * 12 / 60 * t)))
            edr.add(beat) { m.process($0) }
        }
        #expect(abs(try #require(m.respirationRate) - 12) < 1)
    }
}

@Suite struct PassthroughTests {
    @Test func temperatureAndPressurePassWithChecks() throws {
        let ok = Vitals([VitalReading(kind: .temperature, unit: .celsius, mantissa: 368, exponent: -1),
                         VitalReading(kind: .systolicPressure, unit: .mmHg, mantissa: 122),
                         VitalReading(kind: .diastolicPressure, unit: .mmHg, mantissa: 78),
                         VitalReading(kind: .heartRate, unit: .perMinute, mantissa: 70)])
        #expect(try PassthroughVital.from(ok) == [.temperature(celsius: 36.8), .bloodPressure(systolic: 122, diastolic: 78, mean: nil)])
        #expect(throws: SensorsError.self) { try PassthroughVital.from(Vitals([VitalReading(kind: .temperature, unit: .celsius, mantissa: 600, exponent: -1)])) }
        #expect(throws: SensorsError.self) { try PassthroughVital.from(Vitals([VitalReading(kind: .temperature, unit: .mmHg, mantissa: 37)])) }
        #expect(throws: SensorsError.self) {
            try PassthroughVital.from(Vitals([VitalReading(kind: .systolicPressure, unit: .mmHg, mantissa: 80), VitalReading(kind: .diastolicPressure, unit: .mmHg, mantissa: 90)]))
        }
    }
}
