internal import VigilModel

/// Resize of the spatial axes of `[N, C, L]` or `[N, C, H, W]` (ONNX Resize and Upsample, modes
/// nearest and linear; N and C unchanged).
///
/// Each output coordinate is mapped to an input coordinate by the coordinate mode (docs/FORMAT.md
/// §5.6), once per axis at load, into tables of source indexes and weights; eval only reads them.
/// Nearest copies the chosen element. Linear interpolates the (up to) four neighbours, clamped
/// to the edge: float32 in float32, int8 in integers with weights in Q11 (per axis `w1 =
/// round_half_away(r × 2048)`, `w0 = 2048 − w1`, so the four products sum to exactly 2^22):
/// `y = (Σ wy × wx × x + 2^21) >> 22`. Both keep the input's quantization, since every output
/// lies between input values.
struct ResizeOp {
    static let fractionBits = 11

    var x: Int, y: Int
    var linear: Bool, isInt8: Bool
    var elementSize: Int
    var planes: Int, inH: Int, inW: Int, outH: Int, outW: Int
    /// Per output row (column): first and second source index, weight of the second (float32 and
    /// Q11). Nearest uses the first index only.
    var rowA: [Int32] = [], rowB: [Int32] = [], rowF: [Float] = [], rowQ: [Int32] = []
    var colA: [Int32] = [], colB: [Int32] = [], colF: [Float] = [], colQ: [Int32] = []

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        try sameTypeAndQuantization(c, x, y)
        let xs = c.tensor(x).shape, ys = c.tensor(y).shape
        guard xs.count == 3 || xs.count == 4, ys.count == xs.count, xs[0] == ys[0], xs[1] == ys[1] else {
            throw c.fail("input \(xs) and output \(ys) must be [N, C, L] or [N, C, H, W] with the same N and C")
        }
        let dtype = c.tensor(x).dtype
        guard dtype == .float32 || dtype == .int8 else { throw c.unsupported("Resize of \(dtype.name)") }
        isInt8 = dtype == .int8
        elementSize = dtype.byteSize
        let spatial = xs.count - 2
        let m = try c.int(.resizeMode, default: 0)
        guard let mode = ResizeMode(rawValue: Int32(truncatingIfNeeded: m)), Int(mode.rawValue) == m else {
            throw c.badAttribute("unknown resize mode \(m)")
        }
        linear = mode == .linear
        let cm = try c.int(.coordinateMode, default: 0)
        guard let coordinates = ResizeCoordinates(rawValue: Int32(truncatingIfNeeded: cm)), Int(coordinates.rawValue) == cm else {
            throw c.badAttribute("unknown coordinate mode \(cm)")
        }
        let nm = try c.int(.nearestMode, default: 0)
        guard let rounding = NearestRounding(rawValue: Int32(truncatingIfNeeded: nm)), Int(rounding.rawValue) == nm else {
            throw c.badAttribute("unknown nearest mode \(nm)")
        }
        var scales: [Double] = []
        if let a = c.op.attribute(.scales) {
            guard a.words.count == spatial else { throw c.badAttribute("scales has \(a.words.count) values, expected \(spatial)") }
            for s in a.floats {
                guard s.isFinite, s > 0 else { throw c.badAttribute("scale \(s) is not a positive number") }
                scales.append(Double(s))
            }
        } else {
            for d in 0..<spatial { scales.append(Double(ys[2 + d]) / Double(xs[2 + d])) }
        }
        planes = xs[0] * xs[1]
        (inH, outH) = spatial == 2 ? (xs[2], ys[2]) : (1, 1)
        (inW, outW) = (xs[spatial + 1], ys[spatial + 1])
        if spatial == 2 {
            (rowA, rowB, rowF, rowQ) = Self.axis(inLength: inH, outLength: outH, scale: scales[0], coordinates, rounding, linear: linear)
        } else {
            (rowA, rowB, rowF, rowQ) = ([0], [0], [0], [0])
        }
        (colA, colB, colF, colQ) = Self.axis(inLength: inW, outLength: outW, scale: scales[spatial - 1], coordinates, rounding, linear: linear)
    }

    /// The input coordinate of output index `o` along one axis (ONNX coordinate_transformation_mode,
    /// in double, with the resized length taken as `scale × inLength` as the ONNX reference does).
    static func sourceCoordinate(_ o: Int, inLength: Int, outLength: Int, scale: Double, _ mode: ResizeCoordinates) -> Double {
        let resized = scale * Double(inLength), x = Double(o)
        switch mode {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return resized > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return resized == 1 ? 0 : x * Double(inLength - 1) / (resized - 1)
        case .asymmetric: return x / scale
        case .tfHalfPixelForNN: return (x + 0.5) / scale
        case .halfPixelSymmetric:
            let adjustment = Double(outLength) / resized
            let offset = Double(inLength) / 2 * (1 - adjustment)
            return offset + (x + 0.5) / scale - 0.5
        }
    }

    /// Source indexes and weights for every output index of one axis.
    static func axis(inLength: Int, outLength: Int, scale: Double, _ mode: ResizeCoordinates, _ rounding: NearestRounding,
                     linear: Bool) -> ([Int32], [Int32], [Float], [Int32]) {
        var a: [Int32] = [], b: [Int32] = [], f: [Float] = [], q: [Int32] = []
        func clamp(_ i: Double) -> Int32 { Int32(min(max(i, 0), Double(inLength - 1))) }
        let one = Double(1 << fractionBits)
        for o in 0..<outLength {
            let s = sourceCoordinate(o, inLength: inLength, outLength: outLength, scale: scale, mode)
            let lower = s.rounded(.down), r = s - lower
            if linear {
                a.append(clamp(lower))
                b.append(clamp(lower + 1))
                f.append(Float(r))
                q.append(Int32((r * one).rounded(.toNearestOrAwayFromZero)))
            } else {
                var up: Bool
                switch rounding {
                case .roundPreferFloor: up = r > 0.5
                case .roundPreferCeil: up = r >= 0.5
                case .floor: up = false
                case .ceil: up = r > 0
                }
                a.append(clamp(lower + (up ? 1 : 0)))
            }
        }
        if !linear { b = a; f = [Float](repeating: 0, count: outLength); q = [Int32](repeating: 0, count: outLength) }
        return (a, b, f, q)
    }

    func eval(_ t: SlotTable) {
        if linear {
            if isInt8 { linearInt8(t) } else { linearFloat(t) }
        } else if elementSize == 1 {
            nearest(t, UInt8.self)
        } else {
            nearest(t, UInt32.self)
        }
    }

    @inline(__always) func nearest<T>(_ t: SlotTable, _: T.Type) {
        let X = UnsafePointer(t[x].assumingMemoryBound(to: T.self)), Y = t[y].assumingMemoryBound(to: T.self)
        rowA.withUnsafeBufferPointer { ra in
        colA.withUnsafeBufferPointer { ca in
            var o = 0
            for p in 0..<planes {
                let plane = X + p * inH * inW
                for oy in 0..<outH {
                    let row = plane + Int(ra[oy]) * inW
                    for ox in 0..<outW {
                        Y[o] = row[Int(ca[ox])]
                        o += 1
                    }
                }
            }
        }
        }
    }

    func linearFloat(_ t: SlotTable) {
        let X = UnsafePointer(t[x].assumingMemoryBound(to: Float.self)), Y = t[y].assumingMemoryBound(to: Float.self)
        rowA.withUnsafeBufferPointer { ra in rowB.withUnsafeBufferPointer { rb in rowF.withUnsafeBufferPointer { rf in
        colA.withUnsafeBufferPointer { ca in colB.withUnsafeBufferPointer { cb in colF.withUnsafeBufferPointer { cf in
            var o = 0
            for p in 0..<planes {
                let plane = X + p * inH * inW
                for oy in 0..<outH {
                    let top = plane + Int(ra[oy]) * inW, bottom = plane + Int(rb[oy]) * inW
                    let wy = rf[oy]
                    for ox in 0..<outW {
                        let i0 = Int(ca[ox]), i1 = Int(cb[ox]), wx = cf[ox]
                        let upper = (1 - wx) * top[i0] + wx * top[i1]
                        let lower = (1 - wx) * bottom[i0] + wx * bottom[i1]
                        Y[o] = (1 - wy) * upper + wy * lower
                        o += 1
                    }
                }
            }
        } } }
        } } }
    }

    func linearInt8(_ t: SlotTable) {
        let X = UnsafePointer(t[x].assumingMemoryBound(to: Int8.self)), Y = t[y].assumingMemoryBound(to: Int8.self)
        let one = Int32(1) << Int32(Self.fractionBits), shift = Int32(2 * Self.fractionBits), half = Int32(1) << (shift - 1)
        rowA.withUnsafeBufferPointer { ra in rowB.withUnsafeBufferPointer { rb in rowQ.withUnsafeBufferPointer { rq in
        colA.withUnsafeBufferPointer { ca in colB.withUnsafeBufferPointer { cb in colQ.withUnsafeBufferPointer { cq in
            var o = 0
            for p in 0..<planes {
                let plane = X + p * inH * inW
                for oy in 0..<outH {
                    let top = plane + Int(ra[oy]) * inW, bottom = plane + Int(rb[oy]) * inW
                    let wy1 = rq[oy], wy0 = one - wy1
                    for ox in 0..<outW {
                        let i0 = Int(ca[ox]), i1 = Int(cb[ox]), wx1 = cq[ox], wx0 = one - wx1
                        let upper = wx0 * Int32(top[i0]) + wx1 * Int32(top[i1])
                        let lower = wx0 * Int32(bottom[i0]) + wx1 * Int32(bottom[i1])
                        Y[o] = Int8(truncatingIfNeeded: (wy0 * upper + wy1 * lower + half) >> shift)
                        o += 1
                    }
                }
            }
        } } }
        } } }
    }
}
