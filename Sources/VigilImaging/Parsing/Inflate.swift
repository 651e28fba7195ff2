// Deflated Explicit VR Little Endian (PS3.5 A.5): the data set after the file meta group is a raw
// Deflate stream (RFC 1951, no zlib header), inflated here with zlib under an output cap.
import CZlib

enum Inflate {
    /// Inflates a raw Deflate stream. Output beyond `limit` bytes is refused, so a small hostile
    /// stream cannot expand into an unbounded allocation.
    static func raw(_ input: ArraySlice<UInt8>, limit: Int, origin: Int) throws(ImagingError) -> [UInt8] {
        var stream = z_stream()
        var rc = inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw ImagingError(.corruptCompressedData, "zlib inflateInit2 failed (\(rc))") }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let result: Result<Void, ImagingError> = input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                rc = chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = UInt32(c.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if out.count + produced > limit {
                    return .failure(ImagingError(.tooLarge, "deflated data set at file offset \(origin) inflates past the \(limit)-byte cap"))
                }
                out.append(contentsOf: chunk[0..<produced])
                if rc == Z_STREAM_END { return .success(()) }
                if rc == Z_BUF_ERROR && stream.avail_in == 0 {
                    return .failure(ImagingError(.truncated, "deflated data set at file offset \(origin) ends before its Deflate stream does (after \(out.count) inflated bytes)"))
                }
                guard rc == Z_OK else {
                    let msg = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
                    return .failure(ImagingError(.corruptCompressedData, "deflated data set at file offset \(origin): zlib: \(msg) (after \(Int(stream.total_in)) input bytes)"))
                }
            }
        }
        try result.get()
        return out
    }
}
