import Foundation
import Testing
@testable import VigilSensors

@Suite struct FilterTests {
    @Test func butterworthSectionsAreMinus3dBAtCutoff() throws {
        for fs in [250.0, 360, 500] {
            let lp = try Biquad.lowPass(cutoff: 40, sampleRate: fs)
            let hp = try Biquad.highPass(cutoff: 0.5, sampleRate: fs)
            #expect(abs(lp.gain(at: 40, sampleRate: fs) - 0.5.squareRoot()) < 1e-6)
            #expect(abs(hp.gain(at: 0.5, sampleRate: fs) - 0.5.squareRoot()) < 1e-6)
            #expect(lp.gain(at: 1, sampleRate: fs) > 0.999)
            #expect(hp.gain(at: 10, sampleRate: fs) > 0.999)
        }
    }

    /// Filters a tone and measures the output amplitude after the transient.
    func toneGain(_ chain: inout FilterChain, frequency f: Double, fs: Double) -> Double {
        var peak = 0.0
        for i in 0..<Int(20 * fs) {
            let y = chain.process(sin(2 * .pi * f * Double(i) / fs))
            if i > Int(15 * fs) { peak = max(peak, abs(y)) }
        }
        return peak
    }

    @Test func chainNotchesMainsAndKeepsTheECGBand() throws {
        for (mains, fs) in [(50.0, 500.0), (60.0, 360.0)] {
            var c = try FilterChain(.ecg(mains: mains), sampleRate: fs)
            #expect(toneGain(&c, frequency: mains, fs: fs) < 0.02, "\(mains) Hz at \(fs) Hz")
            c.reset()
            #expect(abs(toneGain(&c, frequency: 10, fs: fs) - 1) < 0.05)
            c.reset()
            #expect(toneGain(&c, frequency: 0.05, fs: fs) < 0.02, "baseline wander")
        }
    }

    @Test func designsAboveNyquistAreRefused() {
        #expect(throws: SensorsError.self) { try Biquad.lowPass(cutoff: 60, sampleRate: 100) }
        #expect(throws: SensorsError.self) { try Biquad.highPass(cutoff: 0, sampleRate: 100) }
        #expect(throws: SensorsError.self) { try Biquad.notch(frequency: 50, sampleRate: 0) }
    }
}

@Suite struct ResamplerTests {
    @Test(arguments: [(360.0, 250.0), (250.0, 500.0), (500.0, 100.0), (116.99, 100.0)])
    func slowSineSurvives(_ rates: (Double, Double)) throws {
        let (from, to) = rates
        var r = try Resampler(from: from, to: to)
        let f = 2.0
        let input = (0..<Int(10 * from)).map { Float(sin(2 * .pi * f * Double($0) / from)) }
        let out = r.process(input)
        #expect(abs(out.count - Int(10 * to)) <= 1)
        // Compare after the anti-alias filter's transient with the best delay (the low-pass delays
        // a 2 Hz sine by a few milliseconds): shape, amplitude and rate must all survive.
        var worst = Double.infinity
        for step in 0...100 {
            let delay = Double(step) * 0.0005
            var w = 0.0
            for k in Int(2 * to)..<out.count - 1 {
                w = max(w, abs(Double(out[k]) - sin(2 * .pi * f * (Double(k) / to - delay))))
            }
            worst = min(worst, w)
        }
        #expect(worst < 0.02, "\(from)→\(to): worst error \(worst)")
    }

    @Test func downsamplingSuppressesAliases() throws {
        // 350 Hz at 1000 Hz would fold to 50 Hz at 100 Hz without the low-pass.
        var r = try Resampler(from: 1000, to: 100)
        let out = r.process((0..<10000).map { Float(sin(2 * .pi * 350 * Double($0) / 1000)) })
        let tail = out.suffix(500).map { abs($0) }.max()!
        #expect(tail < 0.01)
    }
}

@Suite struct WindowAssemblerTests {
    @Test func lengthHopAndOverlap() throws {
        var w = try WindowAssembler(length: 4, hop: 2)
        var windows: [[Float]] = []
        w.append(contentsOf: (0..<10).map(Float.init)) { windows.append(Array($0)) }
        #expect(windows == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]])
        var skip = try WindowAssembler(length: 2, hop: 3)
        windows = []
        skip.append(contentsOf: (0..<9).map(Float.init)) { windows.append(Array($0)) }
        #expect(windows == [[0, 1], [3, 4], [6, 7]])
        #expect(throws: SensorsError.self) { try WindowAssembler(length: 0, hop: 1) }
    }

    @Test func normalizations() throws {
        var z = try WindowAssembler(length: 100, hop: 100, normalization: .zScore())
        var got: [Float] = []
        z.append(contentsOf: (0..<100).map { Float($0) * 3 + 7 }) { got = Array($0) }
        let mean = got.reduce(0, +) / 100
        let sd = (got.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 100).squareRoot()
        #expect(abs(mean) < 1e-4 && abs(sd - 1) < 1e-4)
        var a = try WindowAssembler(length: 2, hop: 2, normalization: .affine(scale: 2, offset: 1, mean: 3, std: 2))
        a.append(contentsOf: [1, 2]) { got = Array($0) }
        #expect(got == [0, 1])
        var m = try WindowAssembler(length: 3, hop: 3, normalization: .meanSubtraction)
        m.append(contentsOf: [1, 2, 6]) { got = Array($0) }
        #expect(got == [-2, -1, 3])
    }
}
