// RLE Lossless (PS3.5 Annex G): per frame a 64-byte header (segment count, 15 offsets), then one
// PackBits segment per sample and byte of the sample, most significant byte first.

struct RLEDecoder {
    let decoder: PixelDecoder

    /// Interleaved little-endian sample bytes of every frame.
    func decodeAllFrames() throws(ImagingError) -> [UInt8] {
        let img = decoder.image
        guard let fragments = img.pixelElement.fragments, !fragments.isEmpty else {
            throw ImagingError(.malformed, "\(decoder.pixelTag) is not encapsulated, but RLE Lossless requires it")
        }
        let frameData = try framesFromFragments(Array(fragments.dropFirst()), offsetTable: fragments[0])
        let frameBytes = decoder.samplesPerFrame * decoder.bytesPerSample
        var out = [UInt8](repeating: 0, count: frameBytes * img.frames)
        for (f, data) in frameData.enumerated() {
            try decodeFrame(data, frame: f, into: &out, at: f * frameBytes)
        }
        return out
    }

    /// Frame byte ranges: one fragment per frame, or fragments grouped by the basic offset table,
    /// or every fragment for a single frame.
    func framesFromFragments(_ fragments: [Range<Int>], offsetTable: Range<Int>) throws(ImagingError) -> [[UInt8]] {
        let img = decoder.image
        let bytes = img.dataSet.bytes
        if fragments.count == img.frames { return fragments.map { Array(bytes[$0]) } }
        if img.frames == 1 { return [fragments.flatMap { bytes[$0] }] }
        // Offsets in the table count from the first fragment's item tag; each item has an 8-byte header.
        guard offsetTable.count == 4 * img.frames else {
            throw ImagingError(.malformed, "\(decoder.pixelTag): \(fragments.count) fragments for \(img.frames) frames and no usable basic offset table")
        }
        let first = (fragments.first?.lowerBound ?? 0) - 8
        var starts: [Int] = []
        for i in 0..<img.frames {
            let o = offsetTable.lowerBound + 4 * i
            starts.append(Int(UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24))
        }
        var frames: [[UInt8]] = Array(repeating: [], count: img.frames)
        for frag in fragments {
            let rel = frag.lowerBound - 8 - first
            guard let f = starts.lastIndex(where: { $0 <= rel }) else {
                throw ImagingError(.malformed, "\(decoder.pixelTag): fragment at offset \(frag.lowerBound - 8) precedes the first frame in the basic offset table")
            }
            frames[f] += bytes[frag]
        }
        return frames
    }

    func decodeFrame(_ data: [UInt8], frame: Int, into out: inout [UInt8], at base: Int) throws(ImagingError) {
        let img = decoder.image
        let spp = img.samplesPerPixel, bps = decoder.bytesPerSample, pixels = decoder.pixelsPerFrame
        guard data.count >= 64 else {
            throw ImagingError(.truncated, "RLE frame \(frame) of \(decoder.pixelTag) has \(data.count) bytes; its header alone needs 64")
        }
        func le32(_ o: Int) -> Int { Int(UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24) }
        let segments = le32(0)
        guard segments == spp * bps else {
            throw ImagingError(.malformed, "RLE frame \(frame) of \(decoder.pixelTag) has \(segments) segments; \(spp) samples x \(bps) bytes need \(spp * bps)")
        }
        var offsets = (0..<segments).map { le32(4 + 4 * $0) }
        offsets.append(data.count)
        for s in 0..<segments {
            let start = offsets[s], end = offsets[s + 1]
            guard start >= 64, start <= end, end <= data.count else {
                throw ImagingError(.malformed, "RLE frame \(frame) of \(decoder.pixelTag): segment \(s) spans bytes \(start)..<\(end) of a \(data.count)-byte frame")
            }
            // Segment s holds byte (s % bps), most significant first, of sample (s / bps).
            let sample = s / bps, byteInSample = bps - 1 - s % bps
            let stride = spp * bps
            var dst = base + sample * bps + byteInSample
            var produced = 0
            var i = start
            while i < end && produced < pixels {
                let n = Int(Int8(bitPattern: data[i]))
                i += 1
                if n >= 0 {
                    let count = n + 1
                    guard i + count <= end else {
                        throw ImagingError(.corruptCompressedData, "RLE frame \(frame), segment \(s): literal run of \(count) at frame byte \(i - 1) passes the segment end \(end)")
                    }
                    for k in 0..<min(count, pixels - produced) { out[dst] = data[i + k]; dst += stride }
                    produced = min(pixels, produced + count)
                    i += count
                } else if n != -128 {
                    guard i < end else {
                        throw ImagingError(.corruptCompressedData, "RLE frame \(frame), segment \(s): replicate run at frame byte \(i - 1) has no byte to repeat")
                    }
                    let count = 1 - n
                    let v = data[i]
                    for _ in 0..<min(count, pixels - produced) { out[dst] = v; dst += stride }
                    produced = min(pixels, produced + count)
                    i += 1
                }
            }
            guard produced == pixels else {
                throw ImagingError(.corruptCompressedData, "RLE frame \(frame), segment \(s) decodes to \(produced) bytes; \(img.rows) x \(img.columns) needs \(pixels)")
            }
        }
    }
}
