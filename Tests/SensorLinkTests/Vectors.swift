// Loads Tests/Fixtures/sensorlink/vectors.json, written by Tools/sensorlink/make_vectors.py (a
// Python implementation of docs/SENSORLINK.md), and turns its frame descriptions into `Frame`s.
import Foundation
import SensorLink

enum Vectors {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent("sensorlink")

    static let document: Document = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("vectors.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(Document.self, from: data)
    }()

    static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
    }

    struct Document: Decodable, Sendable {
        var crc: [CRCVector]
        var cobs: [COBSVector]
        var frames: [FrameVector]
        var streams: [StreamVector]
    }

    struct CRCVector: Decodable, Sendable {
        var ascii: String
        var crc: UInt16
    }

    struct COBSVector: Decodable, Sendable, CustomStringConvertible {
        var what: String
        var decodedHex: String
        var encodedHex: String
        var description: String { what }
    }

    struct FrameVector: Decodable, Sendable, CustomStringConvertible {
        var file: String?
        var sequence: UInt16
        var timestampUs: UInt64
        var type: String?
        var payload: PayloadFields?
        var raw: RawFields?
        var unstuffedHex: String?
        var crc: UInt16?
        var description: String { file ?? "sequence \(sequence)" }

        /// The frame described, or nil for a `raw` frame the decoder must reject.
        var frame: Frame? {
            guard let type, let p = payload else { return nil }
            let payload: Payload
            switch type {
            case "hello":
                let v = p.firmware!
                payload = .hello(Hello(firmware: FirmwareVersion(v[0], v[1], v[2]), boot: p.boot!, channels: p.channels!.map {
                    ChannelInfo(id: $0.id, kind: ChannelKind(rawValue: $0.kind), format: SampleFormat(rawValue: $0.format)!,
                                unit: Unit(rawValue: $0.unit), rate: SampleRate(milliHertz: $0.rateMhz),
                                scale: Float(bitPattern: $0.scaleBits), offset: $0.offset)
                }))
            case "waveform":
                payload = .waveform(WaveformBlock(channel: p.channel!, format: SampleFormat(rawValue: p.format!)!,
                                                  rate: SampleRate(milliHertz: p.rateMhz!),
                                                  firstSampleIndex: p.firstSampleIndex!, samples: p.samples!))
            case "vitals":
                payload = .vitals(Vitals(p.readings!.map {
                    VitalReading(kind: VitalKind(rawValue: $0.kind), unit: Unit(rawValue: $0.unit),
                                 mantissa: $0.mantissa, exponent: $0.exponent, quality: $0.quality)
                }))
            case "status":
                payload = .status(DeviceStatus(leadOff: LeadOff(rawValue: p.leadOff!), batteryPercent: p.batteryPercent!,
                                               power: PowerFlags(rawValue: p.power!), droppedSamples: p.droppedSamples!,
                                               faults: p.faults!.map {
                                                   SensorFault(sensor: SensorID(rawValue: $0.sensor), code: FaultCode(rawValue: $0.code))
                                               }))
            default:
                fatalError("vectors.json: unknown type \(type)")
            }
            return Frame(sequence: sequence, timestamp: timestampUs, payload: payload)
        }
    }

    struct PayloadFields: Decodable, Sendable {
        // hello
        var firmware: [UInt8]?
        var boot: Bool?
        var channels: [ChannelFields]?
        // waveform
        var channel: UInt8?
        var format: UInt8?
        var rateMhz: UInt32?
        var firstSampleIndex: UInt64?
        var samples: [Int32]?
        // vitals
        var readings: [ReadingFields]?
        // status
        var leadOff: UInt16?
        var batteryPercent: UInt8?
        var power: UInt8?
        var droppedSamples: UInt32?
        var faults: [FaultFields]?
    }

    struct ChannelFields: Decodable, Sendable {
        var id: UInt8, kind: UInt8, format: UInt8, unit: UInt8, rateMhz: UInt32, scaleBits: UInt32, offset: Int32
    }

    struct ReadingFields: Decodable, Sendable {
        var kind: UInt8, unit: UInt8, mantissa: Int32, exponent: Int8, quality: UInt8
    }

    struct FaultFields: Decodable, Sendable {
        var sensor: UInt8, code: UInt8
    }

    struct RawFields: Decodable, Sendable {
        var version: UInt8, typeByte: UInt8, payloadHex: String
    }

    struct StreamVector: Decodable, Sendable, CustomStringConvertible {
        var file: String
        var frames: [FrameVector]
        var events: [EventFields]
        var statistics: [String: UInt64]
        var description: String { file }

        /// The events the decoder must report.
        var expectedEvents: [ComparableEvent] {
            events.map { e in
                if let name = e.dropped { return .dropped(name) }
                if let i = e.frame { return .event(.frame(frames[i].frame!)) }
                if let g = e.gap { return .event(.sequenceGap(expected: UInt16(g[0]), received: UInt16(g[1]), lost: g[2])) }
                if let r = e.rewound { return .event(.sequenceRewound(expected: UInt16(r[0]), received: UInt16(r[1]))) }
                if let s = e.restart { return .event(.deviceRestarted(sequence: s)) }
                fatalError("vectors.json: an event of no known kind")
            }
        }
    }

    struct EventFields: Decodable, Sendable {
        var frame: Int?
        var dropped: String?
        var gap: [Int]?
        var rewound: [Int]?
        var restart: UInt16?
    }
}

/// `DecoderEvent`s in a form the JSON can state: drops by error name only (the numbers in a
/// drop's error are the Swift decoder's diagnostics, not part of the protocol).
enum ComparableEvent: Equatable, CustomStringConvertible {
    case event(DecoderEvent)
    case dropped(String)

    init(_ e: DecoderEvent) {
        if case .dropped(let error) = e { self = .dropped("\(error.code.name)") } else { self = .event(e) }
    }

    var description: String {
        switch self {
        case .dropped(let name): "dropped(\(name))"
        case .event(.frame(let f)): "frame(seq \(f.sequence), \(f.type))"
        case .event(let e): "\(e)"
        }
    }
}

extension LinkStatistics {
    /// The counters under the names vectors.json uses.
    var byName: [String: UInt64] {
        ["bytes": bytes, "bytes_before_sync": bytesBeforeSync, "dropped_bytes": droppedBytes, "frames": frames,
         "cobs_errors": cobsErrors, "crc_errors": crcErrors, "oversize_frames": oversizeFrames,
         "short_frames": shortFrames, "unsupported_versions": unsupportedVersions, "unknown_types": unknownTypes,
         "malformed_payloads": malformedPayloads, "sequence_gaps": sequenceGaps, "frames_lost": framesLost,
         "sequence_rewinds": sequenceRewinds, "device_restarts": deviceRestarts]
    }
}

/// SplitMix64: a seeded generator, so random cases are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var out: [UInt8] = []
        var chars = hex.makeIterator()
        while let hi = chars.next(), let lo = chars.next() {
            out.append(UInt8(String([hi, lo]), radix: 16)!)
        }
        self = out
    }
}
