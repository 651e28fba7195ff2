// libFuzzer target for the DICOM reader and pixel decoder (Tools/imaging/fuzz.sh builds it). Any
// input may be rejected with an ImagingError; none may crash, trap, leak or touch memory it does
// not own. Each accepted image is decoded at every stage and run through a small pipeline.
import VigilImaging

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    exercise(bytes)
    // Also as the data set of a Part 10 file, so mutations reach the data set parser and the
    // pixel decoder instead of dying at the preamble: try each transfer syntax's meta group.
    if size < 132 || bytes[128] != 0x44 {
        for uid in ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.1.99"] {
            exercise(wrap(bytes, uid))
        }
    }
    return 0
}

func exercise(_ bytes: [UInt8]) {
    guard let image = try? DicomImage(bytes: bytes) else { return }
    var sink = image.rows &+ image.columns &+ image.frames
    for stage in PixelStage.allCases {
        if let px = try? image.pixels(stage: stage) { sink &+= px.count &+ px.npyBytes().count }
    }
    let pipeline = ImagePreprocessing(stage: .voi, height: 7, width: 5, fit: .pad, channels: 3)
    if let t = try? pipeline.apply(to: image, frame: image.frames - 1) { sink &+= t.count }
    if sink == 42 { print("") }  // keeps the work observable
}

/// Preamble, DICM and a minimal meta group naming `uid`, followed by `body` as the data set.
func wrap(_ body: [UInt8], _ uid: String) -> [UInt8] {
    var u = Array(uid.utf8)
    if u.count % 2 == 1 { u.append(0) }
    let meta: [UInt8] = [0x02, 0x00, 0x10, 0x00, 0x55, 0x49, UInt8(u.count), 0] + u
    return [UInt8](repeating: 0, count: 128) + Array("DICM".utf8) + meta + body
}
