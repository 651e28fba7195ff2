import Foundation
import VigilModel
import VigilRuntime

/// How a calibrated range is chosen from the observed activations.
enum CalibrationMethod: String, CaseIterable {
    /// The observed minimum and maximum.
    case minmax
    /// The 0.01st and 99.99th percentiles: ignores rare outliers.
    case percentile
    /// The clipping threshold that minimizes the KL divergence between the 2048-bin histogram of
    /// |x| and its 128-level quantized version (the method TensorRT popularized).
    case entropy
}

/// Runs a float model (with every activation tapped as an output) over calibration samples and
/// derives a range for each tapped value.
struct Calibrator {
    static let bins = 2048

    /// `model` is a float `.vigil` whose outputs are the real outputs followed by `names`; `samples`
    /// is the flattened calibration set for input 0. `progress(done, total)` is called per sample.
    static func ranges(model: [UInt8], inputName: String, names: [String], realOutputs: [String], samples: [Float],
                       method: CalibrationMethod, progress: (Int, Int) -> Void) throws -> [String: ClosedRange<Float>] {
        try model.withUnsafeBytes { raw in
            let interp = try Interpreter(model: try ModelReader.read(raw))
            let per = interp.input(0).info.elementCount
            let count = samples.count / per
            let all = [inputName] + realOutputs + names
            var lo = [Float](repeating: .infinity, count: all.count), hi = [Float](repeating: -.infinity, count: all.count)
            var hist = [[Double]](repeating: [Double](repeating: 0, count: bins), count: all.count)
            // One pass for min/max, a second for histograms over [-absmax, absmax] when needed.
            let passes = method == .minmax ? 1 : 2
            for pass in 0..<passes {
                for s in 0..<count {
                    let window = Array(samples[(s * per)..<((s + 1) * per)])
                    window.withUnsafeBytes { interp.input(0).bytes.copyMemory(from: $0) }
                    interp.invoke()
                    for i in 0..<all.count {
                        let values: UnsafeBufferPointer<Float> = i == 0
                            ? window.withUnsafeBufferPointer { $0 }
                            : UnsafeBufferPointer(interp.output(i - 1).bytes.bindMemory(to: Float.self))
                        if pass == 0 {
                            for v in values where v.isFinite { lo[i] = min(lo[i], v); hi[i] = max(hi[i], v) }
                        } else {
                            let m = max(abs(lo[i]), abs(hi[i]), 1e-12)
                            for v in values where v.isFinite {
                                let k = min(Int((Double(v) + Double(m)) / (2 * Double(m)) * Double(bins)), bins - 1)
                                hist[i][max(k, 0)] += 1
                            }
                        }
                    }
                    progress(pass * count + s + 1, passes * count)
                }
            }
            var out: [String: ClosedRange<Float>] = [:]
            for i in 0..<all.count {
                let l = lo[i].isFinite ? lo[i] : 0, h = hi[i].isFinite ? hi[i] : 0
                // The graph input keeps its full range: clipping rare input peaks (an ECG's R waves)
                // destroys the signal the model reads; the clipping methods apply to activations.
                switch i == 0 ? .minmax : method {
                case .minmax: out[all[i]] = l...max(l, h)
                case .percentile: out[all[i]] = percentileRange(hist[i], absmax: max(abs(l), abs(h)), lo: l, hi: h)
                case .entropy: out[all[i]] = entropyRange(hist[i], absmax: max(abs(l), abs(h)), lo: l, hi: h)
                }
            }
            return out
        }
    }

    static func percentileRange(_ h: [Double], absmax: Float, lo: Float, hi: Float, p: Double = 1e-4) -> ClosedRange<Float> {
        let total = h.reduce(0, +)
        guard total > 0, absmax > 0 else { return lo...max(lo, hi) }
        func edge(_ k: Int) -> Float { Float(Double(k) / Double(bins) * 2 - 1) * absmax }
        var acc = 0.0, a = 0, z = bins - 1
        for k in 0..<bins { acc += h[k]; if acc > total * p { a = k; break } }
        acc = 0
        for k in stride(from: bins - 1, through: 0, by: -1) { acc += h[k]; if acc > total * p { z = k; break } }
        let l = max(lo, edge(a)), u = min(hi, edge(z + 1))
        return min(l, u)...max(l, u)
    }

    static func entropyRange(_ h: [Double], absmax: Float, lo: Float, hi: Float) -> ClosedRange<Float> {
        // Fold the signed histogram into |x| with bins/2 bins.
        let half = bins / 2
        var a = [Double](repeating: 0, count: half)
        for k in 0..<bins { a[k >= half ? k - half : half - 1 - k] += h[k] }
        guard a.reduce(0, +) > 0, absmax > 0 else { return lo...max(lo, hi) }
        let levels = 128
        var best = half, bestKL = Double.infinity
        for t in stride(from: levels, through: half, by: 8) {
            // Reference P: the first t bins, with the clipped outlier mass added to the last one.
            var p = Array(a[0..<t])
            p[t - 1] += a[t...].reduce(0, +)
            // Candidate Q: the same t bins WITHOUT the outliers, merged into `levels` levels and
            // spread back over the bins that were non-empty — so clipping is penalised.
            var q = [Double](repeating: 0, count: t)
            let step = Double(t) / Double(levels)
            for j in 0..<levels {
                let s = Int(Double(j) * step), e = j == levels - 1 ? t : Int(Double(j + 1) * step)
                let mass = a[s..<e].reduce(0, +)
                let nonzero = (s..<e).filter { a[$0] > 0 }.count
                if nonzero > 0 { for k in s..<e where a[k] > 0 { q[k] = mass / Double(nonzero) } }
            }
            let ps = p.reduce(0, +), qs = q.reduce(0, +)
            guard ps > 0, qs > 0 else { continue }
            var kl = 0.0
            for k in 0..<t where p[k] > 0 {
                let qk = max(q[k] / qs, 1e-12)  // smoothing: a bin Q left empty costs, but finitely
                kl += p[k] / ps * log(p[k] / ps / qk)
            }
            if kl < bestKL { bestKL = kl; best = t }
        }
        let threshold = Float(Double(best) / Double(half)) * absmax
        let l = max(lo, -threshold), u = min(hi, threshold)
        return min(l, u)...max(l, u)
    }
}
