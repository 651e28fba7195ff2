#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import VigilModel
import Foundation

/// A `.vigil` file mapped read-only into memory and validated. Weights are used in place from the
/// mapping; the mapping lives as long as this object, so keep it alive while any `Interpreter`
/// built from `model` runs.
public final class ModelFile: @unchecked Sendable {  // immutable after init; the mapping is read-only
    public let path: String
    public let model: Model
    /// Bytes of the file (the mapping).
    public let byteCount: Int
    private let base: UnsafeMutableRawPointer?
    private let owned: UnsafeMutableRawBufferPointer?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelFileError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelFileError("\(path): cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ModelFileError("\(path): not a regular file") }
        let size = Int(st.st_size)
        byteCount = size
        if size == 0 {
            // mmap cannot map nothing; an empty aligned buffer lets the reader name the problem.
            let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 64)
            owned = buf
            base = nil
            do {
                model = try ModelReader.read(UnsafeRawBufferPointer(rebasing: buf[0..<0]))
            } catch {
                buf.deallocate()
                throw ModelFileError("\(path): \(error)", code: error.code)
            }
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ModelFileError("\(path): cannot map: \(String(cString: strerror(errno)))")
        }
        base = p
        owned = nil
        do {
            model = try ModelReader.read(UnsafeRawBufferPointer(start: p, count: size))
        } catch {
            munmap(p, size)
            throw ModelFileError("\(path): \(error)", code: error.code)
        }
    }

    deinit {
        if let base { munmap(base, byteCount) }
        owned?.deallocate()
    }

    /// The metadata section decoded as JSON.
    public func metadata() throws -> ModelMetadata {
        guard let raw = model.metadata, raw.count > 0 else { return ModelMetadata() }
        do {
            return try ModelMetadata.decode(Data(raw))
        } catch {
            throw ModelFileError("\(path): metadata section is not valid model metadata JSON: \(error)")
        }
    }
    /// The metadata section as text.
    public var metadataText: String {
        guard let raw = model.metadata else { return "" }
        return String(decoding: raw, as: UTF8.self)
    }
}

/// An error opening or decoding a model file; `code` carries the reader's code when it has one.
public struct ModelFileError: Error, CustomStringConvertible {
    public var detail: String
    public var code: VigilError.Code?
    public init(_ detail: String, code: VigilError.Code? = nil) {
        self.detail = detail
        self.code = code
    }
    public var description: String { detail }
}
