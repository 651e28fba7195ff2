// Resize and ZeroInsert (the upsampling of segmentation nets and U-Net decoders) against plain
// references written from the ONNX definitions: every output coordinate mapped by the formula of
// its coordinate mode, nearest rounding and linear interpolation in Double, one axis after the other.
import Testing
@testable import VigilRuntime
import VigilModel

/// ONNX Resize along one axis: the input coordinate of output `o` (coordinate_transformation_mode).
private func onnxCoordinate(_ o: Int, _ mode: ResizeCoordinates, scale: Double, inLength: Int, outLength: Int) -> Double {
    let x = Double(o), lengthResized = scale * Double(inLength)
    switch mode {
    case .halfPixel: return (x + 0.5) / scale - 0.5
    case .pytorchHalfPixel: return lengthResized > 1 ? (x + 0.5) / scale - 0.5 : 0
    case .alignCorners: return lengthResized == 1 ? 0 : x * Double(inLength - 1) / (lengthResized - 1)
    case .asymmetric: return x / scale
    case .tfHalfPixelForNN: return (x + 0.5) / scale
    case .halfPixelSymmetric:
        let adjustment = Double(outLength) / lengthResized
        return Double(inLength) / 2 * (1 - adjustment) + (x + 0.5) / scale - 0.5
    }
}

/// One axis of a Resize as (index, weight) pairs per output: the neighbours clamped to the edge.
private func taps(_ mode: ResizeMode, _ coords: ResizeCoordinates, _ rounding: NearestRounding, scale: Double,
                  inLength: Int, outLength: Int) -> [[(Int, Double)]] {
    func edge(_ i: Int) -> Int { min(max(i, 0), inLength - 1) }
    return (0..<outLength).map { o in
        let c = onnxCoordinate(o, coords, scale: scale, inLength: inLength, outLength: outLength)
        let f = Int(c.rounded(.down)), frac = c - Double(f)
        if mode == .linear { return [(edge(f), 1 - frac), (edge(f + 1), frac)] }
        let nearest: Int
        switch rounding {
        case .roundPreferFloor: nearest = frac > 0.5 ? f + 1 : f
        case .roundPreferCeil: nearest = frac >= 0.5 ? f + 1 : f
        case .floor: nearest = f
        case .ceil: nearest = frac > 0 ? f + 1 : f
        }
        return [(edge(nearest), 1)]
    }
}

/// Resize of [N, C, (H,) W] in Double: along W, then along H.
private func referenceResize(_ x: [Double], _ xs: [Int], _ ys: [Int], _ mode: ResizeMode, _ coords: ResizeCoordinates,
                             _ rounding: NearestRounding, scales: [Double]) -> [Double] {
    let spatial = xs.count - 2
    let planes = xs[0] * xs[1]
    let (inH, outH) = spatial == 2 ? (xs[2], ys[2]) : (1, 1), (inW, outW) = (xs.last!, ys.last!)
    let wt = taps(mode, coords, rounding, scale: scales.last!, inLength: inW, outLength: outW)
    let ht = spatial == 2 ? taps(mode, coords, rounding, scale: scales[0], inLength: inH, outLength: outH) : [[(0, 1.0)]]
    var out: [Double] = []
    for p in 0..<planes {
        var rows: [[Double]] = []
        for r in 0..<inH {
            rows.append(wt.map { t in t.reduce(0) { $0 + $1.1 * x[(p * inH + r) * inW + $1.0] } })
        }
        for t in ht {
            for o in 0..<outW { out.append(t.reduce(0) { $0 + $1.1 * rows[$1.0][o] }) }
        }
    }
    return out
}

private func resizeAttributes(_ mode: ResizeMode, _ coords: ResizeCoordinates, _ rounding: NearestRounding, scales: [Float]?) -> [Attribute] {
    var a = [Attribute(.resizeMode, int: Int(mode.rawValue)), Attribute(.coordinateMode, int: Int(coords.rawValue)),
             Attribute(.nearestMode, int: Int(rounding.rawValue))]
    if let scales { a.append(Attribute(.scales, words: scales.map(\.bitPattern))) }
    return a
}

private let allCoordinates: [ResizeCoordinates] = [.halfPixel, .pytorchHalfPixel, .alignCorners, .asymmetric, .tfHalfPixelForNN, .halfPixelSymmetric]
private let allRoundings: [NearestRounding] = [.roundPreferFloor, .roundPreferCeil, .floor, .ceil]

@Suite struct ResizeTests {
    /// Shapes that up- and downsample, with scales given (x2, x3 / 0.6) and from sizes (7/3, 5/4).
    static let cases: [(xs: [Int], ys: [Int], scales: [Float]?)] = [
        ([1, 2, 4, 3], [1, 2, 8, 9], [2, 3]),
        ([1, 3, 5, 5], [1, 3, 3, 3], [0.6, 0.6]),
        ([2, 2, 3, 4], [2, 2, 7, 5], nil),
        ([1, 3, 10], [1, 3, 20], [2]),
        ([1, 2, 7], [1, 2, 3], nil),
    ]

    @Test(arguments: allCoordinates)
    func floatModes(_ coords: ResizeCoordinates) throws {
        var rng = SplitMix64(seed: 401)
        for (xs, ys, scales) in Self.cases {
            let sc = scales.map { $0.map(Double.init) } ?? (2..<xs.count).map { Double(ys[$0]) / Double(xs[$0]) }
            let x = rng.floats(product(xs), -3, 3)
            for mode in [ResizeMode.nearest, .linear] {
                for rounding in mode == .nearest ? allRoundings : [.roundPreferFloor] {
                    var b = ModelBuilder()
                    let tx = b.addTensor("x", .float32, xs), ty = b.addTensor("y", .float32, ys)
                    singleOp(.resize, &b, inputs: [tx], output: ty, attributes: resizeAttributes(mode, coords, rounding, scales: scales))
                    let out = try runModel(b, [.f32(x)]).float()
                    let ref = referenceResize(x.map(Double.init), xs, ys, mode, coords, rounding, scales: sc)
                    expectFloatClose(out, ref, tolerance: 1e-6, "Resize \(mode) \(coords) \(rounding) \(xs)->\(ys)")
                }
            }
        }
    }

    /// int8 nearest moves values: exactly the reference's picks. int8 linear: within half a step
    /// (plus the Q11 weights' error) of the Double interpolation of the same int8 values, and
    /// inside the input's range.
    @Test(arguments: allCoordinates)
    func int8Modes(_ coords: ResizeCoordinates) throws {
        var rng = SplitMix64(seed: 402)
        let q = Quantization(scale: 0.05, zeroPoint: -7)
        for (xs, ys, scales) in Self.cases {
            let sc = scales.map { $0.map(Double.init) } ?? (2..<xs.count).map { Double(ys[$0]) / Double(xs[$0]) }
            let x = rng.int8s(product(xs))
            for mode in [ResizeMode.nearest, .linear] {
                for rounding in mode == .nearest ? allRoundings : [.roundPreferFloor] {
                    var b = ModelBuilder()
                    let tx = b.addTensor("x", .int8, xs, quantization: q), ty = b.addTensor("y", .int8, ys, quantization: q)
                    singleOp(.resize, &b, inputs: [tx], output: ty, attributes: resizeAttributes(mode, coords, rounding, scales: scales))
                    let out = try runModel(b, [.i8(x)]).int8()
                    let ref = referenceResize(x.map(Double.init), xs, ys, mode, coords, rounding, scales: sc)
                    if mode == .nearest {
                        expectExact(out, ref.map { Int8($0) }, "Resize int8 nearest \(coords) \(rounding) \(xs)->\(ys)")
                    } else {
                        let worst = zip(out, ref).map { abs(Double($0) - $1) }.max() ?? 0
                        #expect(worst <= 0.5 + 128.0 / 2048, "Resize int8 linear \(coords) \(xs)->\(ys): off by \(worst) steps")
                    }
                }
            }
        }
    }

    /// The integer rule pinned on extremes: halfway between −128 and 127 is −0.5, rounded up to 0.
    @Test func int8LinearRounding() throws {
        var b = ModelBuilder()
        let q = Quantization(scale: 1, zeroPoint: 0)
        let tx = b.addTensor("x", .int8, [1, 1, 2], quantization: q), ty = b.addTensor("y", .int8, [1, 1, 4], quantization: q)
        singleOp(.resize, &b, inputs: [tx], output: ty, attributes: resizeAttributes(.linear, .asymmetric, .floor, scales: [2]))
        expectExact(try runModel(b, [.i8([-128, 127])]).int8(), [-128, 0, 127, 127])
    }

    @Test func rejectsBadOperands() {
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, [1, 2, 4, 4]), ty = b.addTensor("y", .float32, [1, 4, 8, 8])
        singleOp(.resize, &b, inputs: [tx], output: ty, attributes: resizeAttributes(.linear, .halfPixel, .floor, scales: nil))
        #expect(prepareError(b)?.code == .badOperands)
        var c = ModelBuilder()
        let cx = c.addTensor("x", .float32, [1, 2, 4, 4]), cy = c.addTensor("y", .float32, [1, 2, 8, 8])
        singleOp(.resize, &c, inputs: [cx], output: cy, attributes: [Attribute(.resizeMode, int: 2)])
        #expect(prepareError(c)?.code == .badAttribute)
    }
}

@Suite struct ZeroInsertTests {
    /// Y = fill everywhere, X[i] at pad_begin + i × stride; negative pads crop.
    private func reference<T>(_ x: [T], _ xs: [Int], strides: [Int], pads: [Int], fill: T) -> ([T], [Int]) {
        let spatial = xs.count - 2
        var ys = Array(xs[0..<2])
        for d in 0..<spatial { ys.append((xs[2 + d] - 1) * strides[d] + 1 + pads[d] + pads[spatial + d]) }
        var y = [T](repeating: fill, count: product(ys))
        for idx in allIndices(xs) {
            var o = Array(idx[0..<2])
            var inside = true
            for d in 0..<spatial {
                let p = pads[d] + idx[2 + d] * strides[d]
                inside = inside && p >= 0 && p < ys[2 + d]
                o.append(p)
            }
            if inside { y[offset(o, ys)] = x[offset(idx, xs)] }
        }
        return (y, ys)
    }

    static let cases: [([Int], [Int], [Int])] = [
        ([1, 3, 4, 5], [2, 2], [1, 1, 2, 2]),
        ([2, 2, 3, 3], [3, 2], [0, 2, 1, 0]),
        ([1, 2, 5, 4], [2, 3], [-1, 1, 0, -2]),   // cropping (ConvTranspose pads beyond the kernel)
        ([1, 4, 6], [2], [1, 2]),
        ([1, 1, 5], [4], [0, -3]),
    ]

    @Test func float32() throws {
        var rng = SplitMix64(seed: 403)
        for (xs, strides, pads) in Self.cases {
            let x = rng.floats(product(xs))
            let (ref, ys) = reference(x, xs, strides: strides, pads: pads, fill: Float(0))
            var b = ModelBuilder()
            let tx = b.addTensor("x", .float32, xs), ty = b.addTensor("y", .float32, ys)
            singleOp(.zeroInsert, &b, inputs: [tx], output: ty, attributes: [Attribute(.strides, ints: strides), Attribute(.pads, ints: pads)])
            expectBitExact(try runModel(b, [.f32(x)]).float(), ref, "ZeroInsert float32 \(xs) strides \(strides) pads \(pads)")
        }
    }

    /// int8 fills with the zero point, so that a following convolution sees exactly nothing there.
    @Test(arguments: [Int32(-128), 0, 37, 127])
    func int8(_ zeroPoint: Int32) throws {
        var rng = SplitMix64(seed: 404)
        let q = Quantization(scale: 0.02, zeroPoint: zeroPoint)
        for (xs, strides, pads) in Self.cases {
            let x = rng.int8s(product(xs))
            let (ref, ys) = reference(x, xs, strides: strides, pads: pads, fill: Int8(zeroPoint))
            var b = ModelBuilder()
            let tx = b.addTensor("x", .int8, xs, quantization: q), ty = b.addTensor("y", .int8, ys, quantization: q)
            singleOp(.zeroInsert, &b, inputs: [tx], output: ty, attributes: [Attribute(.strides, ints: strides), Attribute(.pads, ints: pads)])
            expectExact(try runModel(b, [.i8(x)]).int8(), ref, "ZeroInsert int8 z=\(zeroPoint) \(xs) strides \(strides) pads \(pads)")
        }
    }

    @Test func rejectsWrongShape() {
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, [1, 2, 3, 3]), ty = b.addTensor("y", .float32, [1, 2, 6, 6])
        singleOp(.zeroInsert, &b, inputs: [tx], output: ty, attributes: [Attribute(.strides, ints: [2, 2])])
        #expect(prepareError(b)?.code == .badOperands)
    }
}
