import VigilModel

/// The upsampling operators of segmentation nets and U-Nets: ONNX Resize (and the older
/// Upsample) onto the runtime's Resize, and ConvTranspose onto ZeroInsert + Conv.
///
/// ConvTranspose(x, W) with strides s, dilations d, pads (b, e), output_padding a and kernel k is
/// the stride-1 convolution, with dilation d, of x spread s apart with zeros between its elements
/// and padded by `(k − 1) × d − b` before and `(k − 1) × d − e + a` after (negative: cropped), by
/// W with its spatial axes flipped and its in/out channel axes swapped per group. Lowering it so
/// keeps every convolution kernel (AVX2/VNNI, NEON/SDOT, the Embedded core) for U-Net decoders and
/// makes int8 exact by construction (the inserted elements are the zero point, which adds nothing
/// to `Σ (x − z) × w`); the price is the multiplications by the inserted zeros (s² − 1 of s² input
/// positions in 2-D), acceptable beside the encoder's convolutions of the same nets.
extension ShapesAndConstants {
    struct ResizeGeometry {
        var output: [Int]
        var mode: ResizeMode
        var coordinates: ResizeCoordinates
        var rounding: NearestRounding
        /// Scales of the spatial axes when the model gives scales (nil: sizes, scale = out / in).
        var scales: [Float]?
    }

    /// Output shape and parameters of an ONNX Resize (opset 10 and later) or Upsample node.
    static func resizeGeometry(_ n: IRNode, _ g: IRGraph) throws -> ResizeGeometry {
        let x = try g.shape(n.inputs[0]), rank = x.count
        func input(_ i: Int) -> IRTensor? {
            guard i < n.inputs.count, !n.inputs[i].isEmpty else { return nil }
            return g.tensors[n.inputs[i]]
        }
        func constantList(_ i: Int, _ role: String) throws -> [Double]? {
            guard let t = input(i) else { return nil }
            guard t.isConstant else { throw ConvertError("\(n.label): \(role) must be constant (after folding)") }
            let v = t.floats.map { $0.map(Double.init) } ?? t.ints!.map(Double.init)
            return v.isEmpty ? nil : v
        }
        // Upsample and opset-10 Resize: scales only, asymmetric coordinates, nearest rounds down.
        let legacy = n.op == "Upsample" || g.opset < 11
        var scales: [Double]? = nil, sizes: [Int]? = nil
        if n.op == "Upsample", let s = n.attributes["scales"], case .floats(let v) = s {
            scales = v.map(Double.init)
        } else if legacy {
            scales = try constantList(1, "scales")
        } else {
            scales = try constantList(2, "scales")
            sizes = try constantList(3, "sizes")?.map { Int($0) }
        }
        let axes = (n.ints("axes") ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }
        guard Set(axes).count == axes.count, axes.allSatisfy({ (0..<rank).contains($0) }) else {
            throw ConvertError("\(n.label): axes \(n.ints("axes") ?? []) are invalid for rank \(rank)")
        }
        var full = [Double](repeating: 1, count: rank)
        var output = x
        if let sizes {
            guard sizes.count == axes.count, scales == nil else {
                throw ConvertError("\(n.label): sizes has \(sizes.count) values for \(axes.count) axes (and scales must be empty)")
            }
            switch n.string("keep_aspect_ratio_policy") ?? "stretch" {
            case "stretch":
                for (k, a) in axes.enumerated() { output[a] = sizes[k] }
            case let p where p == "not_larger" || p == "not_smaller":
                // One scale for every axis listed; the interpolation uses it (ONNX reference).
                let r = axes.enumerated().map { Double(sizes[$0.offset]) / Double(x[$0.element]) }
                let s = p == "not_larger" ? r.min()! : r.max()!
                for a in axes {
                    full[a] = s
                    output[a] = Int((s * Double(x[a])).rounded(.toNearestOrEven))
                }
                scales = full
            case let p:
                throw ConvertError("\(n.label): keep_aspect_ratio_policy '\(p)' is not supported")
            }
        } else if let s = scales {
            guard s.count == axes.count else { throw ConvertError("\(n.label): scales has \(s.count) values for \(axes.count) axes") }
            for (k, a) in axes.enumerated() {
                guard s[k] > 0, s[k].isFinite else { throw ConvertError("\(n.label): scale \(s[k]) is not a positive number") }
                full[a] = s[k]
                output[a] = Int((s[k] * Double(x[a])).rounded(.down))
            }
        } else {
            throw ConvertError("\(n.label): neither scales nor sizes is given")
        }
        guard rank == 3 || rank == 4, output[0] == x[0], output[1] == x[1] else {
            throw ConvertError("\(n.label): resizes \(x) to \(output); only the spatial axes of [N, C, L] or [N, C, H, W] are supported")
        }
        guard output.allSatisfy({ $0 >= 1 }) else { throw ConvertError("\(n.label): output shape \(output) is empty") }
        let modeName = (n.string("mode") ?? "nearest").lowercased()
        let mode: ResizeMode
        switch modeName {
        case "nearest": mode = .nearest
        case "linear", "bilinear": mode = .linear
        default: throw ConvertError("\(n.label): mode '\(modeName)' is not supported (nearest and linear are)")
        }
        var coordinates = ResizeCoordinates.asymmetric
        var rounding = NearestRounding.floor
        if !legacy {
            switch n.string("coordinate_transformation_mode") ?? "half_pixel" {
            case "half_pixel": coordinates = .halfPixel
            case "pytorch_half_pixel": coordinates = .pytorchHalfPixel
            case "align_corners": coordinates = .alignCorners
            case "asymmetric": coordinates = .asymmetric
            case "tf_half_pixel_for_nn": coordinates = .tfHalfPixelForNN
            case "half_pixel_symmetric": coordinates = .halfPixelSymmetric
            case let m: throw ConvertError("\(n.label): coordinate_transformation_mode '\(m)' is not supported")
            }
            switch n.string("nearest_mode") ?? "round_prefer_floor" {
            case "round_prefer_floor": rounding = .roundPreferFloor
            case "round_prefer_ceil": rounding = .roundPreferCeil
            case "floor": rounding = .floor
            case "ceil": rounding = .ceil
            case let m: throw ConvertError("\(n.label): nearest_mode '\(m)' is not supported")
            }
            if n.int("antialias", 0) != 0, mode == .linear, full.contains(where: { $0 < 1 }) || zip(output, x).contains(where: { $0 < $1 }) {
                throw ConvertError("\(n.label): antialiased downsampling is not supported")
            }
        }
        let spatialScales = scales == nil ? nil : Array(full[2...]).map { Float($0) }
        return ResizeGeometry(output: output, mode: mode, coordinates: coordinates, rounding: rounding, scales: spatialScales)
    }

    struct ConvTransposeGeometry {
        var output: [Int]
        /// ZeroInsert's output shape, strides and pads (all begins, then all ends).
        var inserted: [Int]
        var strides: [Int]
        var insertPads: [Int]
        var dilations: [Int]
        var group: Int
    }

    /// Output shape of an ONNX ConvTranspose and the ZeroInsert that turns it into a convolution.
    /// Pads follow the ONNX reference implementation: explicit pads (default 0) with output_shape
    /// fixing the end; auto_pad SAME_UPPER / SAME_LOWER split the total padding for output_shape
    /// (default input × stride), the odd element at the end for SAME_UPPER.
    static func convTransposeGeometry(_ n: IRNode, _ g: IRGraph) throws -> ConvTransposeGeometry {
        let x = try g.shape(n.inputs[0]), w = try g.shape(n.inputs[1])
        let spatial = x.count - 2
        guard spatial == 1 || spatial == 2, w.count == x.count else {
            throw ConvertError("\(n.label): \(spatial)-D ConvTranspose is not supported (1-D and 2-D are)")
        }
        let group = n.int("group", 1)
        guard group >= 1, x[1] == w[0], x[1] % group == 0 else {
            throw ConvertError("\(n.label): weight \(w) and group \(group) do not fit input channels \(x[1])")
        }
        let k = n.ints("kernel_shape") ?? Array(w[2...])
        let one = [Int](repeating: 1, count: spatial)
        let strides = n.ints("strides") ?? one, dil = n.ints("dilations") ?? one
        let outPad = n.ints("output_padding") ?? [Int](repeating: 0, count: spatial)
        guard k == Array(w[2...]), strides.count == spatial, dil.count == spatial, outPad.count == spatial else {
            throw ConvertError("\(n.label): kernel_shape/strides/dilations/output_padding do not match \(spatial) spatial dims")
        }
        var outSpatial: [Int]? = n.ints("output_shape").map { Array($0.suffix(spatial)) }
        let autoPad = n.string("auto_pad") ?? "NOTSET"
        var begins = [Int](repeating: 0, count: spatial)
        if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            let target = outSpatial ?? (0..<spatial).map { x[2 + $0] * strides[$0] }
            for d in 0..<spatial {
                let total = strides[d] * (x[2 + d] - 1) + outPad[d] + (k[d] - 1) * dil[d] + 1 - target[d]
                begins[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
            }
            outSpatial = target
        } else if autoPad == "VALID" || autoPad == "NOTSET" {
            let pads = n.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
            guard pads.count == 2 * spatial else { throw ConvertError("\(n.label): \(pads.count) pads for \(spatial) spatial dims") }
            if autoPad == "NOTSET" { begins = Array(pads[0..<spatial]) }
            if outSpatial == nil {
                outSpatial = (0..<spatial).map { d in
                    let p = autoPad == "NOTSET" ? pads[d] + pads[spatial + d] : 0
                    return strides[d] * (x[2 + d] - 1) + outPad[d] + (k[d] - 1) * dil[d] + 1 - p
                }
            }
        } else {
            throw ConvertError("\(n.label): auto_pad '\(autoPad)' is not supported")
        }
        let out = outSpatial!
        guard out.count == spatial, out.allSatisfy({ $0 >= 1 }) else { throw ConvertError("\(n.label): output size \(out) is invalid") }
        var inserted = Array(x[0..<2]), insertPads = [Int](repeating: 0, count: 2 * spatial)
        for d in 0..<spatial {
            let eff = (k[d] - 1) * dil[d] + 1
            let spread = (x[2 + d] - 1) * strides[d] + 1
            insertPads[d] = eff - 1 - begins[d]
            // the convolution (stride 1, no padding) shrinks by eff − 1: end pad for `out`
            insertPads[spatial + d] = out[d] + eff - 1 - spread - insertPads[d]
            inserted.append(spread + insertPads[d] + insertPads[spatial + d])
            guard inserted.last! >= eff else { throw ConvertError("\(n.label): pads \(begins) leave no output") }
        }
        return ConvTransposeGeometry(output: [x[0], w[1] * group] + out, inserted: inserted, strides: strides,
                                     insertPads: insertPads, dilations: dil, group: group)
    }
}

extension Lowering {
    static func lowerResize(_ n: IRNode, _ g: IRGraph, _ src: String, input: String) throws -> VNode {
        let r = try ShapesAndConstants.resizeGeometry(n, g)
        var attrs = [Attribute(.resizeMode, int: Int(r.mode.rawValue)), Attribute(.coordinateMode, int: Int(r.coordinates.rawValue)),
                     Attribute(.nearestMode, int: Int(r.rounding.rawValue))]
        if let s = r.scales { attrs.append(Attribute(.scales, words: s.map(\.bitPattern))) }
        return VNode(code: .resize, name: src, inputs: [input], output: n.outputs[0], attributes: attrs, source: src)
    }

    /// ZeroInsert, then Conv (or DepthwiseConv) with W'[g·M + m, c, k…] = W[g·C + c, m, K − 1 − k…].
    static func lowerConvTranspose(_ n: IRNode, _ g: IRGraph, _ src: String, inputs: [String]) throws -> [VNode] {
        guard let w = g.tensors[inputs[1]], let wv = w.floats else { throw ConvertError("\(n.label): the weight must be a constant") }
        let geo = try ShapesAndConstants.convTransposeGeometry(n, g)
        let spatial = w.shape.count - 2
        let cin = w.shape[0], mPer = w.shape[1], group = geo.group, cPer = cin / group
        let kh = spatial == 2 ? w.shape[2] : 1, kw = w.shape[spatial + 1], area = kh * kw
        var flipped = [Float](repeating: 0, count: wv.count)
        for gi in 0..<group {
            for m in 0..<mPer {
                for c in 0..<cPer {
                    let from = ((gi * cPer + c) * mPer + m) * area, to = ((gi * mPer + m) * cPer + c) * area
                    for i in 0..<kh { for j in 0..<kw { flipped[to + i * kw + j] = wv[from + (kh - 1 - i) * kw + (kw - 1 - j)] } }
                }
            }
        }
        let wn = g.fresh("\(src).weight.flipped")
        let wShape = [mPer * group, cPer] + Array(w.shape[2...])
        g.tensors[wn] = IRTensor(name: wn, shape: wShape, floats: flipped)
        let spread = g.fresh("\(src).inserted")
        g.tensors[spread] = IRTensor(name: spread, shape: geo.inserted)
        var convInputs = [spread, wn]
        if inputs.count > 2, !inputs[2].isEmpty {
            guard g.tensors[inputs[2]]?.floats != nil else { throw ConvertError("\(n.label): the bias must be a constant") }
            convInputs.append(inputs[2])
        }
        let depthwise = group > 1 && group == cin && cPer == 1
        return [
            VNode(code: .zeroInsert, name: src + ".zero_insert", inputs: [inputs[0]], output: spread,
                  attributes: [Attribute(.strides, ints: geo.strides), Attribute(.pads, ints: geo.insertPads)], source: src),
            VNode(code: depthwise ? .depthwiseConv : .conv, name: src, inputs: convInputs, output: n.outputs[0], attributes: [
                Attribute(.strides, ints: [Int](repeating: 1, count: spatial)),
                Attribute(.pads, ints: [Int](repeating: 0, count: 2 * spatial)),
                Attribute(.dilations, ints: geo.dilations),
                Attribute(.group, int: group),
            ], source: src),
        ]
    }
}
