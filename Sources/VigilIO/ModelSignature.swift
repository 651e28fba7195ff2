import Crypto
import Foundation
public import VigilModel

/// Ed25519 signatures of `.vigil` files (docs/FORMAT.md, "Signature").
///
/// The signed digest is SHA-256 over every section except `SIGN`, in section-table order, each as
/// its kind (u32 LE), its length (u64 LE) and its bytes; the header is derived from the sections,
/// so this covers the whole model. The `SIGN` section holds: u32 version (1), u32 algorithm
/// (1 = Ed25519), the 32-byte public key and the 64-byte signature (104 bytes).
public enum ModelSignature {
    public struct Info: Sendable, Equatable {
        /// First 8 bytes of SHA-256(public key), hex: how keys are named in logs and `inspect`.
        public var keyID: String
        public var publicKey: [UInt8]
        public var signature: [UInt8]
    }

    public enum Verdict: Sendable, Equatable {
        case unsigned
        case verified(keyID: String)
        case untrustedKey(keyID: String)
        case invalid(keyID: String)
    }

    public static func keyID(_ publicKey: [UInt8]) -> String {
        SHA256.hash(data: publicKey).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 over every section except the signature (what a signature signs): the model's identity
    /// in predictions and alarms, unchanged by re-signing.
    public static func digest(_ model: Model) -> [UInt8] {
        var h = SHA256()
        for s in model.sections where s.kind != .signature {
            var header: [UInt8] = []
            withUnsafeBytes(of: s.kind.rawValue.littleEndian) { header += $0 }
            withUnsafeBytes(of: UInt64(s.length).littleEndian) { header += $0 }
            h.update(data: header)
            h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: model.bytes[s.offset..<(s.offset + s.length)]))
        }
        return Array(h.finalize())
    }

    /// The signature section of a model, if any.
    public static func info(_ model: Model) throws -> Info? {
        guard let raw = model.section(.signature) else { return nil }
        let b = Array(raw)
        guard b.count == 104, b[0..<4] == [1, 0, 0, 0], b[4..<8] == [1, 0, 0, 0] else {
            throw ModelFileError("signature section is \(b.count) bytes or of an unknown version or algorithm", code: .badSignature)
        }
        let pub = Array(b[8..<40])
        return Info(keyID: keyID(pub), publicKey: pub, signature: Array(b[40..<104]))
    }

    /// Checks the signature against the public keys in `trustedKeys` (a directory of `*.pub` files,
    /// each the 32-byte key as 64 hex characters).
    public static func verify(_ model: Model, trustedKeys: URL) throws -> Verdict {
        guard let info = try info(model) else { return .unsigned }
        let trusted = try loadPublicKeys(trustedKeys)
        guard trusted.contains(info.publicKey) else { return .untrustedKey(keyID: info.keyID) }
        let key = try Curve25519.Signing.PublicKey(rawRepresentation: info.publicKey)
        return key.isValidSignature(info.signature, for: digest(model)) ? .verified(keyID: info.keyID) : .invalid(keyID: info.keyID)
    }

    /// Adds (or replaces) the signature of a serialized model with the private key (32-byte seed).
    public static func sign(_ file: [UInt8], privateKey seed: [UInt8]) throws -> [UInt8] {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        return try file.withUnsafeBytes { raw -> [UInt8] in
            let model = try ModelReader.read(raw)
            let sig = try key.signature(for: digest(model))
            var content: [UInt8] = [1, 0, 0, 0, 1, 0, 0, 0]
            content += key.publicKey.rawRepresentation
            content += sig
            var sections: [(SectionKind, [UInt8])] = []
            var flags: [UInt32] = []
            for s in model.sections where s.kind != .signature {
                sections.append((s.kind, Array(raw[s.offset..<(s.offset + s.length)])))
                flags.append(s.flags)
            }
            sections.append((.signature, content))
            flags.append(0)  // optional: readers that do not check signatures may skip it
            return ModelBuilder.assemble(sections, flags: flags)
        }
    }

    /// A new key pair as hex strings (private seed, public key).
    public static func generateKey() -> (privateHex: String, publicHex: String) {
        let k = Curve25519.Signing.PrivateKey()
        return (hex(k.rawRepresentation), hex(k.publicKey.rawRepresentation))
    }

    public static func hex<D: DataProtocol>(_ d: D) -> String { d.map { String(format: "%02x", $0) }.joined() }

    public static func readHexKey(_ url: URL) throws -> [UInt8] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw ModelFileError("cannot read key file \(url.path)") }
        let s = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard s.count == 64, let bytes = parseHex(s) else { throw ModelFileError("\(url.path): a key file holds 64 hex characters (32 bytes)") }
        return bytes
    }

    static func loadPublicKeys(_ dir: URL) throws -> [[UInt8]] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else {
            throw ModelFileError("cannot read trusted keys directory \(dir.path)")
        }
        return try names.filter { $0.hasSuffix(".pub") }.sorted().map { try readHexKey(dir.appendingPathComponent($0)) }
    }

    /// The bytes of a public key given as hex (as `generateKey` returns it).
    public static func parseHexPublic(_ s: String) -> [UInt8] { parseHex(s) ?? [] }

    static func parseHex(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        while let a = it.next() {
            guard let b = it.next(), let hi = nibble(a), let lo = nibble(b) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x57
        case 0x41...0x46: c - 0x37
        default: nil
        }
    }
}
