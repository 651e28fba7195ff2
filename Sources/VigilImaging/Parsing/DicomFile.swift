// DICOM Part 10 files (PS3.10 7.1): 128-byte preamble, "DICM", the file meta group (always Explicit
// VR Little Endian), then the data set in the transfer syntax the meta group names.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Entry point for reading DICOM Part 10 files.
public enum DicomFile {
    /// Largest file or inflated data set read (1 GiB + 64 MiB of attributes): the pixel data cap
    /// plus room for the rest of the data set.
    public static let maxDataBytes = (1 << 30) + (64 << 20)

    /// Reads and parses the file at `path` into an image.
    public static func read(path: String) throws(ImagingError) -> DicomImage {
        try DicomImage(bytes: readFileBytes(path, limit: maxDataBytes))
    }

    /// Parses a whole Part 10 file already in memory.
    public static func parse(_ bytes: [UInt8]) throws(ImagingError) -> DicomImage {
        try DicomImage(bytes: bytes)
    }

    /// The Transfer Syntax UID of the file meta group, or nil when it cannot be read.
    static func metaTransferSyntax(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 132 else { return nil }
        var meta = DataSetParser(bytes: bytes, start: 132, explicitVR: true, littleEndian: true, origin: "file")
        guard let elements = try? meta.parseElements(end: bytes.count, inUndefinedItem: false, depth: 0,
                                                     stop: { $0 >> 16 != 0x0002 }),
              let ts = elements.first(where: { $0.tag == Tag.transferSyntaxUID }) else { return nil }
        return trimmedText(bytes[ts.value])
    }

    /// The transfer syntax named by the file meta group, and the parsed data set (inflated if needed).
    static func parseDataSet(_ bytes: [UInt8]) throws(ImagingError) -> (TransferSyntax, DataSet) {
        guard bytes.count >= 132 else {
            throw ImagingError(.notDicom, "file has \(bytes.count) bytes; a Part 10 file has a 128-byte preamble and 'DICM' at offset 128")
        }
        guard bytes[128] == 0x44, bytes[129] == 0x49, bytes[130] == 0x43, bytes[131] == 0x4D else {
            throw ImagingError(.notDicom, "no 'DICM' prefix at offset 128 (not a DICOM Part 10 file)")
        }
        var meta = DataSetParser(bytes: bytes, start: 132, explicitVR: true, littleEndian: true, origin: "file")
        let metaElements = try meta.parseElements(end: bytes.count, inUndefinedItem: false, depth: 0,
                                                  stop: { $0 >> 16 != 0x0002 })
        guard let tsElement = metaElements.first(where: { $0.tag == Tag.transferSyntaxUID }) else {
            throw ImagingError(.missingAttribute, "file meta group has no Transfer Syntax UID (0002,0010)")
        }
        let uid = trimmedText(bytes[tsElement.value])
        let ts = TransferSyntax.lookup(uid)
        var data = bytes
        var start = meta.pos
        var origin = "file"
        if ts.deflated {
            data = try Inflate.raw(bytes[meta.pos...], limit: maxDataBytes, origin: meta.pos)
            start = 0
            origin = "inflated data set"
        }
        // Some writers encode the data set as implicit VR whatever the meta group says; like pydicom,
        // look at the first element: two upper-case letters where an explicit VR would be, or not.
        var explicitVR = ts.explicitVR
        if explicitVR && start + 6 <= data.count && !(isUpper(data[start + 4]) && isUpper(data[start + 5])) {
            explicitVR = false
        }
        var parser = DataSetParser(bytes: data, start: start, explicitVR: explicitVR,
                                   littleEndian: ts.littleEndian, origin: origin)
        let elements = try parser.parseElements(end: data.count, inUndefinedItem: false, depth: 0)
        var byTag: [UInt32: DataElement] = [:]
        for e in elements where byTag[e.tag] == nil { byTag[e.tag] = e }
        for e in metaElements where byTag[e.tag] == nil { byTag[e.tag] = e }
        // Meta elements point into the file bytes; only keep them when the buffers are the same.
        if ts.deflated { for e in metaElements { byTag[e.tag] = nil } }
        return (ts, DataSet(bytes: data, littleEndian: ts.littleEndian, elements: byTag, origin: origin))
    }
}

/// Reads a whole file, refusing files larger than `limit`.
func readFileBytes(_ path: String, limit: Int) throws(ImagingError) -> [UInt8] {
    guard let f = fopen(path, "rb") else {
        throw ImagingError(.io, "\(path): cannot open (\(String(cString: strerror(errno))))")
    }
    defer { fclose(f) }
    var st = stat()
    guard fstat(fileno(f), &st) == 0 else {
        throw ImagingError(.io, "\(path): cannot stat (\(String(cString: strerror(errno))))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw ImagingError(.io, "\(path): not a regular file") }
    let size = Int(st.st_size)
    guard size <= limit else { throw ImagingError(.tooLarge, "\(path): \(size) bytes exceeds the \(limit)-byte cap") }
    var bytes = [UInt8](repeating: 0, count: size)
    let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, f) }
    guard got == size else { throw ImagingError(.io, "\(path): read \(got) of \(size) bytes") }
    return bytes
}
