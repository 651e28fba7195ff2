// Stored pixel values from native or RLE pixel data, laid out as pydicom lays them out: frames,
// rows, columns, samples interleaved; high bits above Bits Stored masked (unsigned) or filled with
// the sign bit (signed); YBR_FULL and YBR_FULL_422 converted to RGB as pydicom does by default.

struct PixelDecoder {
    let image: DicomImage

    var pixelsPerFrame: Int { image.rows * image.columns }
    var samplesPerFrame: Int { pixelsPerFrame * image.samplesPerPixel }
    var bytesPerSample: Int { image.bitsAllocated / 8 }
    var pixelTag: String { "Pixel Data (7FE0,0010) at \(image.dataSet.origin) offset \(image.pixelElement.offset)" }

    func decode() throws(ImagingError) -> PixelArray {
        let img = image
        if img.bitsAllocated == 1 { return try decodeBits() }
        let ybr422 = img.photometric == "YBR_FULL_422" && img.transferSyntax.pixelEncoding == .native
        let ybr = ybr422 || img.photometric == "YBR_FULL"
        if ybr && img.bitsAllocated != 8 {
            throw ImagingError(.unsupportedPixelFormat, "\(img.photometric) with Bits Allocated \(img.bitsAllocated); only 8-bit YBR is converted to RGB")
        }
        // Interleaved little-endian sample bytes for all frames.
        var raw: [UInt8]
        var littleEndian = true
        switch img.transferSyntax.pixelEncoding {
        case .native:
            guard img.pixelElement.fragments == nil else {
                throw ImagingError(.malformed, "\(pixelTag) is encapsulated, but transfer syntax \(img.transferSyntaxUID) (\(img.transferSyntaxName)) stores it natively")
            }
            let frameBytes = ybr422 ? pixelsPerFrame * 2 : samplesPerFrame * bytesPerSample
            if ybr422 && img.columns % 2 != 0 {
                throw ImagingError(.invalidAttribute, "YBR_FULL_422 needs an even number of Columns (0028,0011); found \(img.columns)")
            }
            let need = frameBytes * img.frames
            let value = img.pixelElement.value
            guard value.count >= need else {
                throw ImagingError(.truncated, "\(pixelTag) has \(value.count) bytes; \(img.frames) frame(s) x \(img.rows) rows x \(img.columns) columns x \(img.samplesPerPixel) samples x \(img.bitsAllocated) bits need \(need)")
            }
            littleEndian = img.transferSyntax.littleEndian
            if !littleEndian && bytesPerSample == 1 && img.pixelElement.vr == VR.OW {
                // 8-bit data as OW in big endian: the bytes of each 16-bit word are swapped,
                // the padding byte of an odd count included, so swap before cutting to size.
                let end = min(value.upperBound, value.lowerBound + need + 1)
                raw = Array(img.dataSet.bytes[value.lowerBound..<end])
                var i = 0
                while i + 1 < raw.count { raw.swapAt(i, i + 1); i += 2 }
                raw.removeLast(raw.count - need)
            } else {
                raw = Array(img.dataSet.bytes[value.lowerBound..<(value.lowerBound + need)])
            }
            if ybr422 { raw = expand422(raw) }
            if img.isPlanar { raw = interleave(raw) }
        case .rle:
            raw = try RLEDecoder(decoder: self).decodeAllFrames()
        case .unsupported:
            throw ImagingError(.unsupportedTransferSyntax, "transfer syntax \(img.transferSyntaxUID) (\(img.transferSyntaxName))")
        }
        if ybr { convertYBRToRGB(&raw) }
        return PixelArray(shape: img.shape, storage: typedValues(raw, littleEndian: littleEndian))
    }

    /// Bits Allocated 1: eight pixels a byte, least significant bit first, frames not byte-aligned.
    func decodeBits() throws(ImagingError) -> PixelArray {
        guard image.transferSyntax.pixelEncoding == .native, image.pixelElement.fragments == nil else {
            throw ImagingError(.unsupportedPixelFormat, "Bits Allocated 1 is only decoded from native pixel data")
        }
        let n = pixelsPerFrame * image.frames
        let need = (n + 7) / 8
        let value = image.pixelElement.value
        guard value.count >= need else {
            throw ImagingError(.truncated, "\(pixelTag) has \(value.count) bytes; \(image.frames) frame(s) x \(image.rows) x \(image.columns) at 1 bit need \(need)")
        }
        let bytes = image.dataSet.bytes
        let base = value.lowerBound
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n { out[i] = (bytes[base + i >> 3] >> UInt8(i & 7)) & 1 }
        return PixelArray(shape: image.shape, storage: .uint8(out))
    }

    /// Planar (RRR...GGG...BBB per frame) to interleaved (RGBRGB...), on whole samples.
    func interleave(_ raw: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: raw.count)
        let p = pixelsPerFrame, spp = image.samplesPerPixel, b = bytesPerSample
        let frameBytes = p * spp * b
        for f in 0..<image.frames {
            let base = f * frameBytes
            for s in 0..<spp {
                for i in 0..<p {
                    let src = base + (s * p + i) * b, dst = base + (i * spp + s) * b
                    for k in 0..<b { out[dst + k] = raw[src + k] }
                }
            }
        }
        return out
    }

    /// YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair) to full YBR (Y1 Cb Cr Y2 Cb Cr), PS3.3 C.7.6.3.1.2.
    func expand422(_ raw: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: raw.count / 2 * 3)
        var i = 0, o = 0
        while i + 3 < raw.count {
            out[o] = raw[i]; out[o + 1] = raw[i + 2]; out[o + 2] = raw[i + 3]
            out[o + 3] = raw[i + 1]; out[o + 4] = raw[i + 2]; out[o + 5] = raw[i + 3]
            i += 4; o += 6
        }
        return out
    }

    /// YBR_FULL to RGB on 8-bit interleaved samples, with the float32 coefficients and the
    /// round-half-up-then-clip that pydicom uses, so results match it exactly.
    func convertYBRToRGB(_ raw: inout [UInt8]) {
        // pydicom builds these in float64 and casts them to float32.
        let d: [[Double]] = [[1, 1, 1], [0, -0.114 * 1.772 / 0.587, 1.772], [1.402, -0.299 * 1.402 / 0.587, 0]]
        let m: [[Float]] = d.map { $0.map { Float($0) } }
        var i = 0
        while i + 2 < raw.count {
            let y = Float(raw[i]), cb = Float(raw[i + 1]) - 128, cr = Float(raw[i + 2]) - 128
            for c in 0..<3 {
                var v = y * m[0][c]
                v += cb * m[1][c]
                v += cr * m[2][c]
                v = (v + 0.5).rounded(.down)
                raw[i + c] = UInt8(min(255, max(0, v)))
            }
            i += 3
        }
    }

    /// The element type for Bits Allocated and Pixel Representation, with the bits above Bits
    /// Stored masked off (unsigned) or replaced by the sign bit (signed), as pydicom does.
    func typedValues(_ raw: [UInt8], littleEndian: Bool) -> PixelArray.Storage {
        let shift = image.bitsAllocated - image.bitsStored
        let n = raw.count / bytesPerSample
        switch (image.bitsAllocated, image.isSigned) {
        case (8, false):
            return .uint8(shift == 0 ? raw : raw.map { ($0 << shift) >> shift })
        case (8, true):
            return .int8(raw.map { Int8(bitPattern: $0 << shift) >> shift })
        case (16, false):
            return .uint16(load(UInt16.self, raw, n, littleEndian).map { ($0 << shift) >> shift })
        case (16, true):
            return .int16(load(UInt16.self, raw, n, littleEndian).map { Int16(bitPattern: $0 << shift) >> shift })
        case (32, false):
            return .uint32(load(UInt32.self, raw, n, littleEndian).map { ($0 << shift) >> shift })
        default:
            return .int32(load(UInt32.self, raw, n, littleEndian).map { Int32(bitPattern: $0 << shift) >> shift })
        }
    }

    func load<U: FixedWidthInteger & UnsignedInteger>(_: U.Type, _ raw: [UInt8], _ n: Int, _ littleEndian: Bool) -> [U] {
        raw.withUnsafeBytes { p in
            (0..<n).map { i in
                let v = p.loadUnaligned(fromByteOffset: i * MemoryLayout<U>.size, as: U.self)
                return littleEndian ? U(littleEndian: v) : U(bigEndian: v)
            }
        }
    }
}
