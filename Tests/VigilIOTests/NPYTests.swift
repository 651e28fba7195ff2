// NPY reading and writing, checked against numpy (the venv Tools/setup.sh creates) as an
// independent oracle in both directions, plus hand-made headers for every error and a fuzz pass.
import Foundation
import Testing
import VigilIO

@Suite struct NPYTests {
    // MARK: numpy writes, we read

    @Test func readsEveryDTypeAndVersionNumPyWrites() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try JSONDecoder().decode(NumPyManifest.self, from: runPython(numpyWriter, [dir.path]))
        #expect(manifest.cases.count == NPYDType.allCases.count * 5 + 4)
        for c in manifest.cases {
            let a = try NPY.read(contentsOf: URL(fileURLWithPath: c.file))
            #expect(a.dtype.descr == c.descr, "\(c.file)")
            #expect(a.shape == c.shape, "\(c.file)")
            #expect(a.count == c.shape.reduce(1, *), "\(c.file)")
            #expect(a.data == bytes(hex: c.hex), "\(c.file)")
            let want = floats(hex: c.f32), got = a.asFloat32()
            #expect(got.count == want.count && zip(got, want).allSatisfy(sameFloat), "\(c.file): \(got) vs \(want)")
            let version = try Data(contentsOf: URL(fileURLWithPath: c.file))[6]
            #expect(Int(version) == c.version, "\(c.file)")
        }
        #expect(Set(manifest.cases.map(\.version)) == [1, 2, 3])
    }

    @Test func rejectsWhatNumPyWritesButWeDoNotSupport() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try JSONDecoder().decode(NumPyManifest.self, from: runPython(numpyWriter, [dir.path]))
        #expect(manifest.errors.count == 7)
        for e in manifest.errors {
            let error = #expect(throws: NPYError.self) { try NPY.read(contentsOf: URL(fileURLWithPath: e.file)) }
            #expect(error?.detail.hasPrefix(e.file + ": ") == true, "\(error?.detail ?? "")")
            #expect(error?.detail.contains(e.expect) == true, "\(error?.detail ?? "") should contain \(e.expect)")
        }
    }

    // MARK: we write, numpy reads

    @Test func numpyLoadsWhatWeWrite() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(seed: 0x5EED)
        var arrays: [(URL, NPYArray)] = []
        for dtype in NPYDType.allCases {
            for shape in [[], [0], [5], [2, 3, 4]] {
                let n = shape.reduce(1, *)
                let data = (0..<n * dtype.byteSize).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let a = NPYArray(dtype: dtype, shape: shape, data: dtype == .bool ? data.map { $0 & 1 } : data)
                arrays.append((dir.appendingPathComponent("\(dtype)-\(shape.map(String.init).joined(separator: "x")).npy"), a))
            }
        }
        let floats: [Float] = [1.5, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1 / 3]
        arrays.append((dir.appendingPathComponent("float32-init.npy"), NPYArray(float32: floats, shape: [2, 4])))
        for (url, a) in arrays { try NPY.write(a, to: url) }

        let loaded = try JSONDecoder().decode([NumPyLoad].self, from: runPython(numpyReader, arrays.map(\.0.path)))
        try #require(loaded.count == arrays.count)
        for ((url, a), l) in zip(arrays, loaded) {
            #expect(l.file == url.path)
            #expect(l.descr == a.dtype.descr, "\(url.lastPathComponent)")
            #expect(l.shape == a.shape, "\(url.lastPathComponent)")
            #expect(bytes(hex: l.hex) == a.data, "\(url.lastPathComponent)")
            #expect(l.fortran == false && l.version == [1, 0], "\(url.lastPathComponent)")
            #expect(l.offset % 64 == 0 && l.offset + a.data.count == NPY.encode(a).count, "\(url.lastPathComponent)")
        }
        #expect(zip(floats, loaded.last.map { self.floats(hex: $0.hex) } ?? []).allSatisfy(sameFloat))
    }

    // MARK: round trips and header syntax

    @Test(arguments: NPYDType.allCases)
    func roundTrips(dtype: NPYDType) throws {
        for shape in [[], [0], [3], [2, 0, 5], [2, 3, 4]] {
            let data = (0..<shape.reduce(1, *) * dtype.byteSize).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let a = NPYArray(dtype: dtype, shape: shape, data: data)
            let bytes = NPY.encode(a)
            #expect(Array(bytes[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
            #expect((bytes.count - data.count) % 64 == 0 && bytes[bytes.count - data.count - 1] == 0x0A)
            #expect(try NPY.decode(bytes) == a)
        }
    }

    @Test func hugeHeaderUsesVersion2() throws {
        let a = NPYArray(dtype: .int16, shape: Array(repeating: 1, count: 30_000), data: [0x34, 0x12])
        let bytes = NPY.encode(a)
        #expect(bytes[6] == 2 && bytes[7] == 0)
        #expect((bytes.count - 2) % 64 == 0)
        let decoded = try NPY.decode(bytes)
        #expect(decoded == a)
        #expect(decoded.asFloat32() == [0x1234])
    }

    @Test(arguments: [
        ("{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", NPYDType.float32, [2, 3]),
        (#"{"descr":"<i2","fortran_order":False,"shape":(3,)}"#, .int16, [3]),
        ("{ 'descr' : '=i4' ,\n\t'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }   \n", .int32, [2, 3]),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (), }", .uint8, []),
        ("{'descr': '>i1', 'fortran_order': False, 'shape': (4,), }", .int8, [4]),
        ("{'descr': 'b1', 'fortran_order': False, 'shape': (0,), }", .bool, [0]),
        ("{'descr': '|f8', 'fortran_order': False, 'shape': ((2), 1), }", .float64, [2, 1]),
        ("{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 3L), }", .int64, [2, 3]),
        ("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 4, 1), }", .float32, [1, 4, 1]),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (+2,)}\u{0C}", .float32, [2]),
    ])
    func acceptsHeaderVariations(header: String, dtype: NPYDType, shape: [Int]) throws {
        let data = (0..<shape.reduce(1, *) * dtype.byteSize).map { UInt8(truncatingIfNeeded: $0) }
        for version: UInt8 in [1, 2, 3] {
            let a = try NPY.decode(npy(header, version: version) + data)
            #expect(a == NPYArray(dtype: dtype, shape: shape, data: data))
        }
    }

    // MARK: errors

    @Test(arguments: errorCases)
    func reportsErrors(_ c: NPYErrorCase) {
        let error = #expect(throws: NPYError.self) { try NPY.decode(c.bytes, source: "case.npy") }
        guard let detail = error?.detail else { return }
        #expect(detail.hasPrefix("case.npy: "), "\(detail)")
        #expect(detail.contains(c.expect), "\(detail) should contain \(c.expect)")
        #expect(error?.description == detail)
    }

    @Test func fileErrorsNameTheFile() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("missing.npy")
        let readError = #expect(throws: NPYError.self) { try NPY.read(contentsOf: missing) }
        #expect(readError?.detail.hasPrefix("\(missing.path): cannot read") == true, "\(readError?.detail ?? "")")

        let dirError = #expect(throws: NPYError.self) { try NPY.read(contentsOf: dir) }
        #expect(dirError?.detail.hasPrefix("\(dir.path): cannot read") == true, "\(dirError?.detail ?? "")")

        let bad = dir.appendingPathComponent("bad.npy")
        try Data("not numpy".utf8).write(to: bad)
        let badError = #expect(throws: NPYError.self) { try NPY.read(contentsOf: bad) }
        #expect(badError?.detail.hasPrefix("\(bad.path): bad magic") == true, "\(badError?.detail ?? "")")

        let out = dir.appendingPathComponent("out.npy")
        let short = #expect(throws: NPYError.self) { try NPY.write(NPYArray(dtype: .int32, shape: [2], data: [1, 2, 3]), to: out) }
        #expect(short?.detail == "\(out.path): cannot write: shape (2,) of <i4 needs 8 data bytes, not 3")
        let negative = #expect(throws: NPYError.self) { try NPY.write(NPYArray(dtype: .int8, shape: [-1], data: []), to: out) }
        #expect(negative?.detail.contains("negative dimension -1") == true)
        let overflow = #expect(throws: NPYError.self) { try NPY.write(NPYArray(dtype: .int8, shape: [1 << 62, 4], data: []), to: out) }
        #expect(overflow?.detail.contains("size overflow") == true)
        #expect(!FileManager.default.fileExists(atPath: out.path))

        let unwritable = dir.appendingPathComponent("no/such/dir/x.npy")
        let writeError = #expect(throws: NPYError.self) { try NPY.write(NPYArray(float32: [1], shape: []), to: unwritable) }
        #expect(writeError?.detail.hasPrefix("\(unwritable.path): cannot write") == true, "\(writeError?.detail ?? "")")
    }

    @Test func neverCrashesOnDamagedInput() throws {
        let valid = [
            NPY.encode(NPYArray(float32: [1, 2, 3, 4, 5, 6], shape: [2, 3])),
            NPY.encode(NPYArray(dtype: .int64, shape: [], data: Array(repeating: 7, count: 8))),
            npy("{'descr': '<i2', 'fortran_order': False, 'shape': (2,)}", version: 3) + [1, 0, 2, 0],
        ]
        for bytes in valid {
            for n in 0...bytes.count { _ = try? NPY.decode(Array(bytes.prefix(n))) }
        }
        var rng = SplitMix64(seed: 42)
        for _ in 0..<4000 {
            var bytes = valid[Int(rng.next() % UInt64(valid.count))]
            for _ in 0..<(1 + rng.next() % 4) {
                let i = Int(rng.next() % UInt64(min(bytes.count, 80)))
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = try? NPY.decode(bytes)
        }
        let tokens = ["{", "}", "(", ")", "[", "]", ",", ":", " ", "'", "\"", "\\", "-", "9", "0", "L", "True", "None",
                      "'descr'", "'shape'", "'fortran_order'", "'<f4'", "99999999999999999999", "\n", "é"]
        for _ in 0..<4000 {
            let header = (0..<(rng.next() % 24)).map { _ in tokens[Int(rng.next() % UInt64(tokens.count))] }.joined()
            _ = try? NPY.decode(npy(header, version: UInt8(1 + rng.next() % 3)) + [0, 0, 0, 0])
        }
        let nested = "{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 100_000) + "}"
        #expect(throws: NPYError.self) { try NPY.decode(npy(nested)) }
    }

    @Test func convertsToFloat32() {
        func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.littleEndian, Array.init) } }
        #expect(NPYArray(dtype: .int8, shape: [3], data: [0x80, 0x7F, 0xFF]).asFloat32() == [-128, 127, -1])
        #expect(NPYArray(dtype: .uint8, shape: [2], data: [255, 0]).asFloat32() == [255, 0])
        #expect(NPYArray(dtype: .bool, shape: [3], data: [0, 1, 2]).asFloat32() == [0, 1, 1])
        #expect(NPYArray(dtype: .int16, shape: [2], data: le([Int16.min, 300])).asFloat32() == [-32768, 300])
        #expect(NPYArray(dtype: .int32, shape: [2], data: le([Int32.min, 16_777_217])).asFloat32() == [-2_147_483_648, 16_777_216])
        #expect(NPYArray(dtype: .int64, shape: [2], data: le([Int64.max, -5])).asFloat32() == [0x1p63, -5])
        #expect(NPYArray(dtype: .float64, shape: [2], data: le([0.1, 1e300].map(\.bitPattern))).asFloat32() == [0.1, .infinity])
        #expect(NPYArray(float32: [2.5], shape: []).asFloat32() == [2.5])
        #expect(NPYArray(float32: [], shape: [3, 0]).count == 0)
        #expect(NPYArray(float32: [7], shape: []).count == 1)
        // Inconsistent arrays made by hand convert what data holds rather than crash.
        #expect(NPYArray(dtype: .int32, shape: [4], data: [1, 0, 0, 0, 9]).asFloat32() == [1])
        #expect(NPYArray(dtype: .int8, shape: [-2], data: [1]).asFloat32() == [])
        #expect(NPYArray(dtype: .int8, shape: [1 << 62, 4], data: [3]).count == .max)
    }

    private func floats(hex: String) -> [Float] {
        let b = bytes(hex: hex)
        return stride(from: 0, to: b.count - 3, by: 4).map { i in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[i + $1]) << (8 * $1) })
        }
    }
}

// MARK: - Error cases

struct NPYErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var expect: String
    var testDescription: String { name }
}

private func header(_ descr: String, _ shape: String, fortran: String = "False") -> String {
    "{'descr': \(descr), 'fortran_order': \(fortran), 'shape': \(shape), }"
}

private let errorCases: [NPYErrorCase] = [
    NPYErrorCase(name: "bad magic", bytes: Array("PK\u{3}\u{4} not npy at all".utf8), expect: "bad magic: not a NumPy .npy file"),
    NPYErrorCase(name: "bad magic, short", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x51], expect: "bad magic"),
    NPYErrorCase(name: "empty", bytes: [], expect: "truncated header"),
    NPYErrorCase(name: "magic only", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59], expect: "truncated header"),
    NPYErrorCase(name: "no length", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 5], expect: "truncated header"),
    NPYErrorCase(name: "v2 short length", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 5, 0, 0], expect: "truncated header"),
    NPYErrorCase(name: "header past end", bytes: Array(npy(header("'<f4'", "(3,)")).dropLast(5)), expect: "truncated header: header length is"),
    NPYErrorCase(name: "version 4.0", bytes: npy(header("'<f4'", "()"), version: 4), expect: "unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)"),
    NPYErrorCase(name: "version 1.1", bytes: npy(header("'<f4'", "()"), version: 1, minor: 1), expect: "unsupported .npy format version 1.1"),
    NPYErrorCase(name: "version 0.0", bytes: npy(header("'<f4'", "()"), version: 0), expect: "unsupported .npy format version 0.0"),
    NPYErrorCase(name: "empty header", bytes: npy(""), expect: "malformed header: unexpected end of header"),
    NPYErrorCase(name: "not a dict", bytes: npy("[1, 2]"), expect: "malformed header: the header is not a dict"),
    NPYErrorCase(name: "missing shape", bytes: npy("{'descr': '<f4', 'fortran_order': False}"), expect: "malformed header: missing key 'shape'"),
    NPYErrorCase(name: "missing descr", bytes: npy("{'fortran_order': False, 'shape': ()}"), expect: "missing key 'descr'"),
    NPYErrorCase(name: "extra key", bytes: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}"), expect: "unexpected key 'x'"),
    NPYErrorCase(name: "duplicate key", bytes: npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}"), expect: "duplicate key 'descr'"),
    NPYErrorCase(name: "unterminated string", bytes: npy("{'descr': '<f4\n"), expect: "malformed header: unterminated string"),
    NPYErrorCase(name: "unbalanced tuple", bytes: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}"), expect: "malformed header: expected ',' or ')'"),
    NPYErrorCase(name: "double comma", bytes: npy(header("'<f4'", "(2,,)")), expect: "malformed header: unexpected ','"),
    NPYErrorCase(name: "missing colon", bytes: npy("{'descr' '<f4'}"), expect: "malformed header: expected ':'"),
    NPYErrorCase(name: "missing brace", bytes: npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()"), expect: "malformed header"),
    NPYErrorCase(name: "shape list", bytes: npy(header("'<f4'", "[2, 3]")), expect: "'shape' must be a tuple of integers, not [2, 3]"),
    NPYErrorCase(name: "shape float", bytes: npy(header("'<f4'", "(2.5,)")), expect: "malformed header"),
    NPYErrorCase(name: "shape string", bytes: npy(header("'<f4'", "('2',)")), expect: "'shape' must be a tuple of integers"),
    NPYErrorCase(name: "fortran not bool", bytes: npy(header("'<f4'", "()", fortran: "1")), expect: "'fortran_order' must be True or False"),
    NPYErrorCase(name: "unknown name", bytes: npy(header("'<f4'", "()", fortran: "false")), expect: "unexpected name 'false'"),
    NPYErrorCase(name: "trailing junk", bytes: npy(header("'<f4'", "()") + " x"), expect: "after the dict"),
    NPYErrorCase(name: "deep nesting", bytes: npy(header("'<f4'", String(repeating: "(", count: 50) + "1" + String(repeating: ")", count: 50))), expect: "nested too deeply"),
    NPYErrorCase(name: "v3 bad utf8", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 3, 0, 2, 0, 0, 0, 0xC3, 0x28], expect: "malformed header: not valid UTF-8"),
    NPYErrorCase(name: "complex", bytes: npy(header("'<c8'", "()")) + [UInt8](repeating: 0, count: 8), expect: "unsupported dtype '<c8' (supported: <f4, <f8, |i1, |u1, <i2, <i4, <i8, |b1)"),
    NPYErrorCase(name: "unicode", bytes: npy(header("'<U5'", "(1,)")), expect: "unsupported dtype '<U5'"),
    NPYErrorCase(name: "uint16", bytes: npy(header("'<u2'", "(1,)")), expect: "unsupported dtype '<u2'"),
    NPYErrorCase(name: "big-endian f4", bytes: npy(header("'>f4'", "(1,)")) + [0, 0, 0, 0], expect: "unsupported dtype '>f4': big-endian data is not supported"),
    NPYErrorCase(name: "big-endian i8", bytes: npy(header("'>i8'", "(1,)")), expect: "unsupported dtype '>i8': big-endian"),
    NPYErrorCase(name: "structured", bytes: npy(header("[('a', '<f4'), ('b', '|i1')]", "(1,)")), expect: "unsupported dtype [('a', '<f4'), ('b', '|i1')]: only simple types"),
    NPYErrorCase(name: "descr None", bytes: npy(header("None", "(1,)")), expect: "unsupported dtype None"),
    NPYErrorCase(name: "fortran order", bytes: npy(header("'<f4'", "(2, 3)", fortran: "True")) + [UInt8](repeating: 0, count: 24),
              expect: "Fortran-order arrays are not supported; save with np.ascontiguousarray"),
    NPYErrorCase(name: "data short", bytes: npy(header("'<f4'", "(2, 3)")) + [UInt8](repeating: 0, count: 23),
              expect: "data truncated: shape (2, 3) of <f4 needs 24 bytes but 23 follow the header"),
    NPYErrorCase(name: "scalar no data", bytes: npy(header("'<i8'", "()")), expect: "data truncated: shape () of <i8 needs 8 bytes but 0"),
    NPYErrorCase(name: "negative dim", bytes: npy(header("'<f4'", "(-1, 3)")), expect: "negative dimension -1 in shape (-1, 3)"),
    NPYErrorCase(name: "element count overflow", bytes: npy(header("'|u1'", "(9223372036854775807, 2)")), expect: "size overflow"),
    NPYErrorCase(name: "byte count overflow", bytes: npy(header("'<f4'", "(4611686018427387904,)")), expect: "size overflow: shape (4611686018427387904,) of <f4"),
    NPYErrorCase(name: "dimension beyond 64 bits", bytes: npy(header("'<f4'", "(99999999999999999999,)")), expect: "size overflow: dimension 99999999999999999999"),
]

/// An `.npy` file with `header` as given (no padding), version `version`.`minor`.
private func npy(_ header: String, version: UInt8 = 1, minor: UInt8 = 0) -> [UInt8] {
    let h = Array(header.utf8)
    let length = (0..<(version == 1 ? 2 : 4)).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) }
    return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, minor] + length + h
}

// MARK: - numpy oracle

private struct NumPyManifest: Decodable {
    struct Case: Decodable { var file, descr, hex, f32: String; var shape: [Int]; var version: Int }
    struct Failure: Decodable { var file, expect: String }
    var cases: [Case]
    var errors: [Failure]
}

private struct NumPyLoad: Decodable {
    var file, descr, hex: String
    var shape: [Int]
    var fortran: Bool
    var version: [Int]
    var offset: Int
}

/// Writes arrays of every dtype with numpy and prints a JSON manifest of what it wrote.
private let numpyWriter = #"""
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
out = sys.argv[1]
rng = np.random.default_rng(20261123)

def sample(code, shape):
    dt = np.dtype(code)
    n = int(np.prod(shape, dtype=np.int64))
    if dt.kind == "b":
        a = rng.integers(0, 2, n).astype(dt)
    elif dt.kind == "f":
        a = (rng.standard_normal(n) * 1e3).astype(dt)
        special = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, 3e38, 1 / 3, 1e300, -1e-300, 0.1]
        special = np.array(special[: 8 if dt.itemsize == 4 else None], dtype=dt)
        k = min(n, special.size)
        a[:k] = special[:k]
    else:
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
        k = min(n, 2)
        a[:k] = [info.min, info.max][:k]
    return a.reshape(shape)

cases, errors = [], []
def save(name, a, version=None):
    path = f"{out}/{name}.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=version)
    with open(path, "rb") as f:
        major, _ = np.lib.format.read_magic(f)
    assert np.array_equal(np.load(path), a, equal_nan=True)
    cases.append(dict(file=path, descr=a.dtype.str, shape=list(a.shape), version=major,
                      hex=np.ascontiguousarray(a).tobytes().hex(), f32=a.astype("<f4").tobytes().hex()))

def bad(name, a, expect):
    path = f"{out}/{name}.npy"
    np.save(path, a, allow_pickle=True)
    errors.append(dict(file=path, expect=expect))

for code in ["<f4", "<f8", "|i1", "|u1", "<i2", "<i4", "<i8", "|b1"]:
    for shape in [(), (0,), (7,), (2, 3, 4), (3, 0, 2)]:
        save(code[1:] + "_" + ("x".join(map(str, shape)) or "scalar"), sample(code, shape))
save("v2_f4", sample("<f4", (2, 3)), (2, 0))
save("v3_i2", sample("<i2", (5,)), (3, 0))
save("noncontiguous_i4", sample("<i4", (4, 6))[:, ::2])
save("fortran_1d_f8", np.asfortranarray(sample("<f8", (5,))))

bad("fortran", np.asfortranarray(sample("<f8", (2, 3))), "Fortran-order arrays are not supported; save with np.ascontiguousarray")
bad("bigendian", sample("<f4", (3,)).astype(">f4"), "unsupported dtype '>f4': big-endian")
bad("complex", np.zeros(3, np.complex64), "unsupported dtype '<c8'")
bad("unicode", np.array(["ab", "c"]), "unsupported dtype '<U2'")
bad("uint16", np.zeros(2, np.uint16), "unsupported dtype '<u2'")
bad("object", np.array([1, "a"], dtype=object), "unsupported dtype '|O'")
bad("structured", np.zeros(2, dtype=[("a", "<f4"), ("b", "|i1")]), "unsupported dtype [('a', '<f4'), ('b', '|i1')]")
print(json.dumps(dict(cases=cases, errors=errors)))
"""#

/// Loads each file named on the command line with numpy and prints what it found as JSON.
private let numpyReader = #"""
import json, sys
import numpy as np
res = []
for path in sys.argv[1:]:
    a = np.load(path)
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        _, fortran, _ = np.lib.format.read_array_header_1_0(f)
        offset = f.tell()
    res.append(dict(file=path, descr=a.dtype.str, shape=list(a.shape), hex=a.tobytes().hex(),
                    fortran=fortran, version=list(version), offset=offset))
print(json.dumps(res))
"""#

private struct OracleError: Error, CustomStringConvertible { var description: String }

private let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs `script` with the venv's python (numpy installed by Tools/setup.sh) and returns its stdout.
private func runPython(_ script: String, _ arguments: [String]) throws -> Data {
    let python = repoRoot.appendingPathComponent(".venv/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
        throw OracleError(description: "numpy oracle missing: \(python.path) does not exist; run Tools/setup.sh to create the venv")
    }
    let process = Process()
    process.executableURL = python
    process.arguments = ["-c", script] + arguments
    let stdout = Pipe(), stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw OracleError(description: "numpy oracle failed (exit \(process.terminationStatus); run Tools/setup.sh if numpy is missing):\n"
                          + String(decoding: err, as: UTF8.self))
    }
    return out
}

// MARK: - Helpers

private func makeTempDir() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-npy-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16) }
}

/// Bit-identical, or both NaN.
private func sameFloat(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

/// SplitMix64: tiny, seedable test randomness.
private struct SplitMix64: RandomNumberGenerator {
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
