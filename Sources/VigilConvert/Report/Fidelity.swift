import Foundation
import VigilIO
import VigilModel
import VigilRuntime

/// Classification metrics for one set of predictions.
public struct ClassMetrics: Codable, Sendable {
    public var accuracy: Double
    public var precision: [Double]
    public var recall: [Double]
    public var f1: [Double]
    public var macroF1: Double
    /// confusion[true][predicted]
    public var confusion: [[Int]]

    init(predicted: [Int], labels: [Int], classes: Int) {
        var m = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, l) in zip(predicted, labels) where l >= 0 && l < classes && p >= 0 && p < classes { m[l][p] += 1 }
        confusion = m
        let total = labels.count
        accuracy = total == 0 ? 0 : Double((0..<classes).map { m[$0][$0] }.reduce(0, +)) / Double(total)
        precision = (0..<classes).map { c in
            let col = (0..<classes).map { m[$0][c] }.reduce(0, +)
            return col == 0 ? 0 : Double(m[c][c]) / Double(col)
        }
        recall = (0..<classes).map { c in
            let row = m[c].reduce(0, +)
            return row == 0 ? 0 : Double(m[c][c]) / Double(row)
        }
        let p = precision, r = recall
        f1 = (0..<classes).map { p[$0] + r[$0] == 0 ? 0 : 2 * p[$0] * r[$0] / (p[$0] + r[$0]) }
        macroF1 = f1.reduce(0, +) / Double(max(classes, 1))
    }
}

/// Per-layer signal-to-quantization-noise ratio: 10 log10(sum f^2 / sum (f - q)^2) over the
/// evaluation samples, for every activation of the int8 model against the float model.
public struct LayerError: Codable, Sendable {
    public var value: String
    public var sqnrDB: Double
    public var maxAbsError: Double
}

public struct FidelityReport: Codable, Sendable {
    public var model: String
    public var samples: Int
    public var top1Agreement: Double
    public var maxAbsError: Double
    public var meanAbsError: Double
    public var layers: [LayerError]
    public var labels: [String]?
    public var float: ClassMetrics?
    public var int8: ClassMetrics?
    public var accuracyDropPoints: Double?
    /// Operators of the int8 model that run in float32, and why.
    public var floatOperators: [ModelMetadata.FloatOperator] = []
    /// Every operator of the int8 model (before the inserted Quantize/Dequantize) and its precision.
    public var operators: [OperatorPrecision] = []
    /// Names of the graph outputs (the first outputs of both twins, before the taps).
    public var outputs: [String] = []
}

/// The precision one operator of an int8 model runs in ("int8" or "float32") and, for float32, why.
public struct OperatorPrecision: Codable, Sendable {
    public var name: String
    public var op: String
    public var precision: String
    public var reason: String?
}

public enum Fidelity {
    /// Runs `model` over `samples` (flattened for input 0) and returns every output, concatenated per output.
    static func run(_ model: [UInt8], _ samples: [Float]) throws -> [[Float]] {
        try model.withUnsafeBytes { raw in
            let interp = try Interpreter(model: try ModelReader.read(raw))
            let per = interp.input(0).info.elementCount
            var outs = [[Float]](repeating: [], count: interp.outputCount)
            for s in 0..<(samples.count / per) {
                samples[(s * per)..<((s + 1) * per)].withUnsafeBytes { interp.input(0).bytes.copyMemory(from: $0) }
                interp.invoke()
                for o in 0..<interp.outputCount {
                    outs[o] += Array(interp.output(o).bytes.bindMemory(to: Float.self))
                }
            }
            return outs
        }
    }

    public static func evaluate(_ c: ConversionArtifacts, samples: [Float], labels: [Int]?, classNames: [String]?) throws -> FidelityReport {
        let f = try run(c.floatTapped, samples), q = try run(c.int8Tapped, samples)
        let n = samples.count / c.inputElements
        let width = f[0].count / max(n, 1)
        func argmax(_ v: [Float], _ i: Int) -> Int {
            var best = 0
            for k in 1..<max(width, 1) where v[i * width + k] > v[i * width + best] { best = k }
            return best
        }
        let pf = (0..<n).map { argmax(f[0], $0) }, pq = (0..<n).map { argmax(q[0], $0) }
        let agree = n == 0 ? 0 : Double(zip(pf, pq).filter { $0 == $1 }.count) / Double(n)
        let diffs = zip(f[0], q[0]).map { Double(abs($0 - $1)) }
        var layers: [LayerError] = []
        // The graph outputs come first in the tapped twins, then the taps: every one is a layer, so
        // the sensitivity pass can also keep the last layer (the one writing an output) in float32.
        let outputs = f.count - c.taps.count
        let names = (c.outputs.count == outputs ? c.outputs : (0..<outputs).map { "output \($0)" }) + c.taps
        for (i, name) in names.enumerated() {
            let a = f[i], b = q[i]
            var sig = 0.0, noise = 0.0, worst = 0.0
            for k in 0..<min(a.count, b.count) {
                let d = Double(a[k]) - Double(b[k])
                sig += Double(a[k]) * Double(a[k]); noise += d * d; worst = max(worst, abs(d))
            }
            layers.append(LayerError(value: name, sqnrDB: noise == 0 ? 99 : 10 * log10(max(sig, 1e-30) / noise), maxAbsError: worst))
        }
        var report = FidelityReport(model: c.name, samples: n, top1Agreement: agree, maxAbsError: diffs.max() ?? 0,
                                    meanAbsError: diffs.isEmpty ? 0 : diffs.reduce(0, +) / Double(diffs.count), layers: layers,
                                    labels: classNames, floatOperators: c.floatOperators, operators: c.operators)
        if let labels {
            let classes = max(width, (labels.max() ?? 0) + 1)
            report.float = ClassMetrics(predicted: pf, labels: Array(labels.prefix(n)), classes: classes)
            report.int8 = ClassMetrics(predicted: pq, labels: Array(labels.prefix(n)), classes: classes)
            report.accuracyDropPoints = 100 * (report.float!.accuracy - report.int8!.accuracy)
        }
        return report
    }

    public static func text(_ r: FidelityReport) -> String {
        var s = "fidelity on \(r.samples) samples: top-1 agreement \(pct(r.top1Agreement)), output max |err| \(fmt(r.maxAbsError)), mean |err| \(fmt(r.meanAbsError))\n"
        if let f = r.float, let q = r.int8 {
            s += "              accuracy   macro-F1\n"
            s += "  float32     \(pct(f.accuracy).padding(toLength: 9, withPad: " ", startingAt: 0))  \(fmt(f.macroF1))\n"
            s += "  int8        \(pct(q.accuracy).padding(toLength: 9, withPad: " ", startingAt: 0))  \(fmt(q.macroF1))\n"
            s += "  accuracy drop: \(String(format: "%.2f", r.accuracyDropPoints!)) points\n"
        }
        if !r.operators.isEmpty {
            let n8 = r.operators.filter { $0.precision == "int8" }.count
            s += "  precision: \(n8) operators in int8, \(r.operators.count - n8) in float32\n"
        }
        if !r.floatOperators.isEmpty {
            s += "  ran in float32: " + r.floatOperators.map { "\($0.op) '\($0.name)' (\($0.reason))" }.joined(separator: ", ") + "\n"
        } else {
            s += "  every operator ran in int8\n"
        }
        let worst = r.layers.sorted { $0.sqnrDB < $1.sqnrDB }.prefix(5)
        if !worst.isEmpty {
            s += "  lowest per-layer SQNR: " + worst.map { "\($0.value) \(String(format: "%.1f", $0.sqnrDB)) dB" }.joined(separator: ", ") + "\n"
        }
        return s
    }

    static func pct(_ v: Double) -> String { String(format: "%.2f%%", 100 * v) }
    static func fmt(_ v: Double) -> String { String(format: "%.4g", v) }
}

/// What fidelity evaluation needs from a conversion: float and int8 twins with every activation tapped.
public struct ConversionArtifacts {
    public var name: String
    public var floatTapped: [UInt8]
    public var int8Tapped: [UInt8]
    public var taps: [String]
    public var inputElements: Int
    public var floatOperators: [ModelMetadata.FloatOperator] = []
    public var operators: [OperatorPrecision] = []
    /// Names of the graph outputs (the first outputs of both twins, before the taps).
    public var outputs: [String] = []
}
