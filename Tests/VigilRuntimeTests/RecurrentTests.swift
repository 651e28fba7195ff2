// LSTM and GRU (float32) against a Double reference written here from the ONNX operator spec, on
// random weights (the ONNX node tests use uniform weights, which hide gate order), every direction,
// both layouts and both GRU reset modes; Slice against index arithmetic; operand checks.
import Foundation
import Testing
@testable import VigilRuntime
import VigilModel

private func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// ONNX LSTM / GRU in Double: returns Y, Y_h (, Y_c) flattened in the given layout.
private func reference(lstm: Bool, x: [Float], w: [Float], r: [Float], b: [Float], h0: [Float], c0: [Float],
                       steps T: Int, batch N: Int, input I: Int, hidden H: Int, directions D: Int, reverse: Bool,
                       layout: Int, linearBeforeReset: Bool) -> [[Double]] {
    let G = (lstm ? 4 : 3) * H
    var Y = [Double](repeating: 0, count: T * D * N * H)
    var Yh = [Double](repeating: 0, count: D * N * H), Yc = Yh
    func xi(_ t: Int, _ n: Int, _ i: Int) -> Double { Double(x[layout == 0 ? (t * N + n) * I + i : (n * T + t) * I + i]) }
    func si(_ d: Int, _ n: Int, _ k: Int) -> Int { layout == 0 ? (d * N + n) * H + k : (n * D + d) * H + k }
    for d in 0..<D {
        for n in 0..<N {
            var h = (0..<H).map { Double(h0[si(d, n, $0)]) }, c = (0..<H).map { Double(c0[si(d, n, $0)]) }
            for s in 0..<T {
                let t = (reverse || d == 1) ? T - 1 - s : s
                func xw(_ j: Int) -> Double { (0..<I).reduce(0) { $0 + xi(t, n, $1) * Double(w[(d * G + j) * I + $1]) } }
                func hr(_ j: Int, _ v: [Double]) -> Double { (0..<H).reduce(0) { $0 + v[$1] * Double(r[(d * G + j) * H + $1]) } }
                func wb(_ j: Int) -> Double { Double(b[d * 2 * G + j]) }
                func rb(_ j: Int) -> Double { Double(b[d * 2 * G + G + j]) }
                var next = h
                for k in 0..<H {
                    if lstm {
                        let i = sigmoid(xw(k) + hr(k, h) + wb(k) + rb(k))
                        let o = sigmoid(xw(H + k) + hr(H + k, h) + wb(H + k) + rb(H + k))
                        let f = sigmoid(xw(2 * H + k) + hr(2 * H + k, h) + wb(2 * H + k) + rb(2 * H + k))
                        let g = tanh(xw(3 * H + k) + hr(3 * H + k, h) + wb(3 * H + k) + rb(3 * H + k))
                        c[k] = f * c[k] + i * g
                        next[k] = o * tanh(c[k])
                    } else {
                        let z = sigmoid(xw(k) + hr(k, h) + wb(k) + rb(k))
                        let rr = (0..<H).map { sigmoid(xw(H + $0) + hr(H + $0, h) + wb(H + $0) + rb(H + $0)) }
                        let g = linearBeforeReset
                            ? tanh(xw(2 * H + k) + rr[k] * (hr(2 * H + k, h) + rb(2 * H + k)) + wb(2 * H + k))
                            : tanh(xw(2 * H + k) + hr(2 * H + k, (0..<H).map { rr[$0] * h[$0] }) + rb(2 * H + k) + wb(2 * H + k))
                        next[k] = (1 - z) * g + z * h[k]
                    }
                }
                h = next
                for k in 0..<H { Y[layout == 0 ? ((t * D + d) * N + n) * H + k : ((n * T + t) * D + d) * H + k] = h[k] }
            }
            for k in 0..<H { Yh[si(d, n, k)] = h[k]; Yc[si(d, n, k)] = c[k] }
        }
    }
    return lstm ? [Y, Yh, Yc] : [Y, Yh]
}

@Suite struct RecurrentTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var lstm: Bool, direction: RecurrentDirection, layout: Int, linearBeforeReset: Bool
        var testDescription: String { "\(lstm ? "LSTM" : "GRU") \(direction) layout \(layout)\(lstm ? "" : " lbr \(linearBeforeReset ? 1 : 0)")" }
    }
    static let cases: [Case] = [
        Case(lstm: true, direction: .forward, layout: 0, linearBeforeReset: false),
        Case(lstm: true, direction: .reverse, layout: 1, linearBeforeReset: false),
        Case(lstm: true, direction: .bidirectional, layout: 0, linearBeforeReset: false),
        Case(lstm: true, direction: .bidirectional, layout: 1, linearBeforeReset: false),
        Case(lstm: false, direction: .forward, layout: 0, linearBeforeReset: false),
        Case(lstm: false, direction: .forward, layout: 1, linearBeforeReset: true),
        Case(lstm: false, direction: .bidirectional, layout: 0, linearBeforeReset: true),
        Case(lstm: false, direction: .reverse, layout: 0, linearBeforeReset: false),
    ]

    @Test(arguments: cases)
    func matchesReference(_ c: Case) throws {
        let (T, N, I, H) = (5, 2, 3, 4)
        let D = c.direction == .bidirectional ? 2 : 1, G = (c.lstm ? 4 : 3) * H
        var rng = SplitMix64(seed: 20)
        let x = rng.floats(T * N * I, -2, 2), w = rng.floats(D * G * I), r = rng.floats(D * G * H), bias = rng.floats(D * 2 * G, -0.5, 0.5)
        let h0 = rng.floats(D * N * H), c0 = rng.floats(D * N * H)
        let state = c.layout == 0 ? [D, N, H] : [N, D, H]
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, c.layout == 0 ? [T, N, I] : [N, T, I])
        let tw = b.addConstant("W", float32: w, shape: [D, G, I]), tr = b.addConstant("R", float32: r, shape: [D, G, H])
        let tb = b.addConstant("B", float32: bias, shape: [D, 2 * G]), th = b.addConstant("h0", float32: h0, shape: state)
        var ins = [tx, tw, tr, tb, th]
        if c.lstm { ins.append(b.addConstant("c0", float32: c0, shape: state)) }
        var outs = [b.addTensor("Y", .float32, c.layout == 0 ? [T, D, N, H] : [N, T, D, H]), b.addTensor("Y_h", .float32, state)]
        if c.lstm { outs.append(b.addTensor("Y_c", .float32, state)) }
        var attrs = [Attribute(.direction, int: Int(c.direction.rawValue)), Attribute(.layout, int: c.layout)]
        if !c.lstm { attrs.append(Attribute(.linearBeforeReset, int: c.linearBeforeReset ? 1 : 0)) }
        b.addOp(c.lstm ? .lstm : .gru, "rnn", inputs: ins, outputs: outs, attributes: attrs)
        b.inputs = [tx]
        b.outputs = outs
        let run = try runModel(b, [.f32(x)])
        let want = reference(lstm: c.lstm, x: x, w: w, r: r, b: bias, h0: h0, c0: c.lstm ? c0 : h0, steps: T, batch: N, input: I,
                             hidden: H, directions: D, reverse: c.direction == .reverse, layout: c.layout,
                             linearBeforeReset: c.linearBeforeReset)
        for (o, ref) in want.enumerated() {
            let got = run.float(o)
            let err = zip(got, ref).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(got.count == ref.count && err < 1e-5, "\(c.testDescription) output \(o): max |err| \(err)")
        }
    }

    @Test func rejectsBadOperands() {
        func lstm(wShape: [Int], x: DType = .float32, direction: Int = 0) -> VigilError? {
            var b = ModelBuilder()
            let tx = b.addTensor("x", x, [5, 1, 3], quantization: x == .int8 ? Quantization(scale: 1, zeroPoint: 0) : nil)
            let tw = b.addConstant("W", float32: [Float](repeating: 0, count: product(wShape)), shape: wShape)
            let tr = b.addConstant("R", float32: [Float](repeating: 0, count: 16 * 4), shape: [1, 16, 4])
            let outs = [b.addTensor("Y", .float32, [5, 1, 1, 4]), b.addTensor("Y_h", .float32, [1, 1, 4]), b.addTensor("Y_c", .float32, [1, 1, 4])]
            b.addOp(.lstm, "rnn", inputs: [tx, tw, tr], outputs: outs, attributes: [Attribute(.direction, int: direction)])
            b.inputs = [tx]
            b.outputs = outs
            return prepareError(b)
        }
        #expect(lstm(wShape: [1, 16, 3]) == nil)
        #expect(lstm(wShape: [1, 16, 2])?.code == .badOperands)  // input size differs from X
        #expect(lstm(wShape: [2, 16, 3])?.code == .badOperands)  // two directions for a forward LSTM
        #expect(lstm(wShape: [1, 16, 3], x: .int8)?.code == .badOperands)  // float32 only
        #expect(lstm(wShape: [1, 16, 3], direction: 7)?.code == .badAttribute)
    }
}

@Suite struct SliceTests {
    /// int8, negative and positive steps: Y[i, j, k] = X[s0 + i*p0, s1 + j*p1, s2 + k*p2], bytes exact.
    @Test func stridedWindow() throws {
        let xs = [4, 5, 6], ys = [2, 3, 2], starts = [3, 0, 1], steps = [-2, 2, 3]
        var rng = SplitMix64(seed: 23)
        let x = rng.int8s(product(xs))
        let q = Quantization(scale: 0.1, zeroPoint: -3)
        var b = ModelBuilder()
        let tx = b.addTensor("x", .int8, xs, quantization: q), ty = b.addTensor("y", .int8, ys, quantization: q)
        singleOp(.slice, &b, inputs: [tx], output: ty, attributes: [Attribute(.starts, ints: starts), Attribute(.steps, ints: steps)])
        let got = try runModel(b, [.i8(x)]).int8()
        var want: [Int8] = []
        for i in 0..<ys[0] { for j in 0..<ys[1] { for k in 0..<ys[2] {
            want.append(x[((starts[0] + i * steps[0]) * xs[1] + starts[1] + j * steps[1]) * xs[2] + starts[2] + k * steps[2]])
        } } }
        #expect(got == want)
    }

    @Test func rejectsReadsOutsideTheInput() {
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, [4, 5]), ty = b.addTensor("y", .float32, [3, 5])
        singleOp(.slice, &b, inputs: [tx], output: ty, attributes: [Attribute(.starts, ints: [2, 0]), Attribute(.steps, ints: [1, 1])])
        #expect(prepareError(b)?.code == .badAttribute)
    }
}
