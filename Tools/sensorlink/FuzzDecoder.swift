// libFuzzer target for the SensorLink decoder (Tools/sensorlink/fuzz.sh builds and runs it). Any
// byte stream may produce drops; none may crash, trap, leak, or break these properties (checked
// with preconditions, so a violation is a crash libFuzzer reports):
//  - decoding in two chunks split anywhere reports the same events and counters as in one;
//  - every byte is counted, and every delivered frame re-encodes to a frame that decodes to the
//    same bytes again;
//  - a small frame limit and attaching mid-stream change what is dropped, never safety.
import SensorLink

/// Events as bytes, so frames compare by their encoding (a hello's scale may be NaN).
func key(_ e: DecoderEvent) -> [UInt8] {
    switch e {
    case .frame(let f): return [0] + (try! f.encoded())
    case .dropped(let error): return [1, error.code.rawValue]
    case .sequenceGap(let expected, let received, let lost):
        return [2, UInt8(expected & 0xFF), UInt8(expected >> 8), UInt8(received & 0xFF), UInt8(received >> 8), UInt8(lost & 0xFF)]
    case .sequenceRewound(let expected, let received):
        return [3, UInt8(expected & 0xFF), UInt8(expected >> 8), UInt8(received & 0xFF), UInt8(received >> 8)]
    case .deviceRestarted(let sequence): return [4, UInt8(sequence & 0xFF), UInt8(sequence >> 8)]
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)

    var whole = FrameDecoder()
    var events: [[UInt8]] = []
    whole.feed(bytes) { events.append(key($0)) }
    precondition(whole.statistics.bytes == UInt64(size))

    let split = size == 0 ? 0 : Int(bytes[0]) * size / 256
    var parts = FrameDecoder()
    var partEvents: [[UInt8]] = []
    parts.feed(bytes[..<split]) { partEvents.append(key($0)) }
    parts.feed(bytes[split...]) { partEvents.append(key($0)) }
    precondition(partEvents == events, "chunked decoding differs")
    precondition(parts.statistics == whole.statistics, "chunked counters differ")

    for e in events where e.first == 0 {
        let wire = Array(e.dropFirst())
        let again = try! Frame.decode(wire: wire)
        precondition(try! again.encoded() == wire, "re-encoding a delivered frame is not stable")
    }

    var small = FrameDecoder(maxFrameLength: 40, awaitDelimiter: true)
    small.feed(bytes) { event in
        if case .frame(let f) = event { precondition(f.frameLength <= 40) }
    }
    return 0
}
