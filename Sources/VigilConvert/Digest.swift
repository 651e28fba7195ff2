import Crypto

/// Hex SHA-256 of the source model and calibration set, for provenance.
func sha256Hex(_ data: [UInt8]) -> String {
    SHA256.hash(data: data).map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
}
