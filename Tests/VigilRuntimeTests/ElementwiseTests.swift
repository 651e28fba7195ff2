// Add and Mul with NumPy broadcasting and fused activations, against a Double reference.
import Testing
@testable import VigilRuntime
import VigilModel

struct BinaryCase: Sendable, CustomStringConvertible {
    var label: String
    var a: [Int]
    var b: [Int]
    var act: Act = .none
    var za: Int32 = -7
    var zb: Int32 = 12
    var sa: Float = 0.05
    var sb: Float = 0.02
    var seed: UInt64
    var description: String { label }

    /// Broadcast output shape (computed here, independently of the runtime).
    var y: [Int] {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
        return (0..<r).map { max(pa[$0], pb[$0]) }
    }
}

let binaryCases: [BinaryCase] = [
    BinaryCase(label: "same shape [1,3,5,7]", a: [1, 3, 5, 7], b: [1, 3, 5, 7], seed: 51),
    BinaryCase(label: "[1,5,7,5] with [1,5,1,1] (per channel), relu", a: [1, 5, 7, 5], b: [1, 5, 1, 1], act: .relu, seed: 52),
    BinaryCase(label: "[1,3,1,1] with [1,3,5,7] (left operand broadcast)", a: [1, 3, 1, 1], b: [1, 3, 5, 7],
               za: -128, zb: 127, seed: 53),
    BinaryCase(label: "[2,3,5,7] with [7] (rank differs)", a: [2, 3, 5, 7], b: [7], act: .relu6, seed: 54),
    BinaryCase(label: "[1,3,1,7] with [1,1,5,1] (both broadcast)", a: [1, 3, 1, 7], b: [1, 1, 5, 1],
               act: .clip(-0.5, 0.5), za: 127, zb: -128, seed: 55),
    BinaryCase(label: "[3,5] with [3,1], zero points -128 and -128", a: [3, 5], b: [3, 1], za: -128, zb: -128,
               sa: 0.1, sb: 0.001, seed: 56),
    BinaryCase(label: "[1,3,5,7] with [1,1,1,1] (scalar)", a: [1, 3, 5, 7], b: [1, 1, 1, 1], za: 0, zb: 0,
               sa: 0.01, sb: 0.2, seed: 57),
]

func referenceBinary(_ a: [Double], _ b: [Double], _ c: BinaryCase, _ f: (Double, Double) -> Double) -> [Double] {
    allIndices(c.y).map { idx in f(a[broadcastOffset(idx, c.a)], b[broadcastOffset(idx, c.b)]) }
}

@discardableResult
func checkBinaryInt8(_ code: OpCode, _ c: BinaryCase, fraction: Double = 0.9,
                     _ f: (Double, Double) -> Double) throws -> Int {
    var rng = SplitMix64(seed: c.seed)
    let aq = rng.int8s(product(c.a)), bq = rng.int8s(product(c.b))
    let raw = referenceBinary(dq(aq, c.sa, c.za), dq(bq, c.sb, c.zb), c, f)
    let (sy, zy) = outputQuantization(for: raw, fraction: fraction)
    var b = ModelBuilder()
    let ta = b.addTensor("a", .int8, c.a, quantization: Quantization(scale: c.sa, zeroPoint: c.za))
    let tb = b.addTensor("b", .int8, c.b, quantization: Quantization(scale: c.sb, zeroPoint: c.zb))
    let ty = b.addTensor("y", .int8, c.y, quantization: Quantization(scale: sy, zeroPoint: zy))
    singleOp(code, &b, inputs: [ta, tb], output: ty, attributes: c.act.attributes)
    let out = try runModel(b, [.i8(aq), .i8(bq)]).int8()
    return expectInt8Close(out, scale: sy, zeroPoint: zy, reference: raw.map(c.act.apply), "\(code.name) int8 \(c)")
}

func checkBinaryFloat(_ code: OpCode, _ c: BinaryCase, _ f: (Double, Double) -> Double) throws {
    var rng = SplitMix64(seed: c.seed ^ 0xF)
    let af = rng.floats(product(c.a), -3, 3), bf = rng.floats(product(c.b), -3, 3)
    let ref = referenceBinary(af.map(Double.init), bf.map(Double.init), c, f).map(c.act.apply)
    var b = ModelBuilder()
    let ta = b.addTensor("a", .float32, c.a)
    let tb = b.addTensor("b", .float32, c.b)
    let ty = b.addTensor("y", .float32, c.y)
    singleOp(code, &b, inputs: [ta, tb], output: ty, attributes: c.act.attributes)
    expectFloatClose(try runModel(b, [.f32(af), .f32(bf)]).float(), ref, "\(code.name) float32 \(c)")
}

@Suite struct AddTests {
    @Test(arguments: binaryCases)
    func addInt8(_ c: BinaryCase) throws { try checkBinaryInt8(.add, c, +) }

    @Test(arguments: binaryCases)
    func addFloat(_ c: BinaryCase) throws { try checkBinaryFloat(.add, c, +) }

    @Test(arguments: [binaryCases[0], binaryCases[1]])
    func addInt8Saturates(_ c: BinaryCase) throws {
        let saturated = try checkBinaryInt8(.add, c, fraction: 0.1, +)
        #expect(saturated > product(c.y) / 4)
    }

    /// Equal input and output quantization with all 256 x 256 input pairs: exact where no rounding
    /// is needed (y = a + b - z), and saturating at both ends.
    @Test func addInt8AllPairsSameScale() throws {
        let values = (-128...127).map { Int8($0) }
        let a = values.flatMap { v in [Int8](repeating: v, count: 256) }
        let bvals = Array(repeating: values, count: 256).flatMap { $0 }
        let q = Quantization(scale: 0.5, zeroPoint: 3)
        var b = ModelBuilder()
        let ta = b.addTensor("a", .int8, [256, 256], quantization: q)
        let tb = b.addTensor("b", .int8, [256, 256], quantization: q)
        let ty = b.addTensor("y", .int8, [256, 256], quantization: q)
        singleOp(.add, &b, inputs: [ta, tb], output: ty)
        let out = try runModel(b, [.i8(a), .i8(bvals)]).int8()
        let expected = (0..<a.count).map { i in Int8(min(max(Int(a[i]) + Int(bvals[i]) - 3, -128), 127)) }
        expectExact(out, expected, "Add int8 all pairs")
    }
}

@Suite struct MulTests {
    @Test(arguments: binaryCases)
    func mulInt8(_ c: BinaryCase) throws { try checkBinaryInt8(.mul, c, *) }

    @Test(arguments: binaryCases)
    func mulFloat(_ c: BinaryCase) throws { try checkBinaryFloat(.mul, c, *) }

    @Test(arguments: [binaryCases[0], binaryCases[3]])
    func mulInt8Saturates(_ c: BinaryCase) throws {
        // products concentrate near zero, so fewer of them reach the ends than for Add
        let saturated = try checkBinaryInt8(.mul, c, fraction: 0.1, *)
        #expect(saturated > product(c.y) / 10)
    }
}
