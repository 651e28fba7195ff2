// Hand-written tests of the reader on valid files and of CRC-32.
import Testing
import VigilModel

/// Reads `bytes` (from an aligned copy) and hands the model to `body` while the bytes are alive.
func withModel<R>(_ bytes: [UInt8], _ body: (Model) throws -> R) throws -> R {
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
    defer { buf.deallocate() }
    bytes.withUnsafeBytes { buf.copyMemory(from: $0) }
    let model = try ModelReader.read(UnsafeRawBufferPointer(start: buf.baseAddress, count: bytes.count))
    return try body(model)
}

@Suite struct CRC32Tests {
    @Test func checkValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
    @Test func emptyIsZero() {
        #expect(CRC32.checksum([UInt8]()) == 0)
    }
    @Test func updateIsIncremental() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = CRC32.checksum(bytes)
        for split in [0, 1, 13, 500, 999, 1000] {
            let a = CRC32.update(0, Array(bytes[0..<split]))
            #expect(CRC32.update(a, Array(bytes[split...])) == whole, "split at \(split)")
        }
    }
    @Test func knownVectors() {
        #expect(CRC32.checksum(Array("a".utf8)) == 0xE8B7_BE43)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 32)) == 0x190A_55AD)
    }
}

@Suite struct ReaderTests {
    @Test func roundTripPreservesEverything() throws {
        let spec = CorpusSpec.base()
        let file = spec.serialize()
        try withModel(file) { m in
            #expect(m.majorVersion == 1 && m.minorVersion == 0)
            #expect(m.sections.map(\.kind.text) == ["META", "STRS", "TENS", "GRPH", "WGHT"])
            for s in m.sections { #expect(s.offset % 64 == 0 && s.flags == 1) }
            #expect(m.tensors.count == spec.tensors.count)
            for (i, t) in spec.tensors.enumerated() {
                let r = m.tensors[i]
                #expect(r.name == t.name)
                #expect(r.dtype == t.dtype, "\(t.name)")
                #expect(r.shape == t.shape, "\(t.name)")
                #expect(r.elementCount == t.shape.reduce(1, *), "\(t.name)")
                #expect(r.isConstant == (t.data != nil), "\(t.name)")
                #expect(r.quantization == t.quantization, "\(t.name)")
                if let d = t.data {
                    #expect(r.dataOffset % 64 == 0, "\(t.name) data is 64-byte aligned in the file")
                    #expect(Array(m.constantData(i)) == d, "\(t.name) data")
                } else {
                    #expect(r.dataOffset == 0)
                }
            }
            #expect(m.ops.count == spec.ops.count)
            for (k, op) in spec.ops.enumerated() {
                let r = m.ops[k]
                #expect(r.code == op.code && r.name == op.name)
                #expect(r.inputs == op.inputs && r.outputs == op.outputs, "\(op.name)")
                #expect(r.attributes == op.attributes, "\(op.name)")
            }
            #expect(m.inputs == spec.inputs && m.outputs == spec.outputs)
            #expect(m.metadata.map(Array.init) == Array(spec.metadata.utf8))
        }
    }

    @Test func attributeAccessors() throws {
        try withModel(CorpusSpec.base().serialize()) { m in
            let conv = m.ops[1], relu = m.ops[2], softmax = m.ops[5]
            #expect(conv.ints(.pads) == [1, 1, 1, 1])
            #expect(conv.int(.group) == 1)
            #expect(conv.int(.pads) == nil, "a 4-word attribute is not one int")
            #expect(conv.attribute(.alpha) == nil)
            #expect(relu.float(.clipMin) == 0 && relu.float(.clipMax) == 6)
            #expect(softmax.int(.axis) == -1)
            #expect(conv.label(1) == "node 1 (Conv 'conv')")
        }
    }

    @Test func perAxisAndSpecialQuantizationSurvive() throws {
        var b = ModelBuilder()
        let x = b.addTensor("x", .uint8, [2, 3], quantization: Quantization(scales: [0.5, 0.25, 0.125], zeroPoints: [0, 128, 255], axis: 1))
        let w = b.addConstant("w", int32: [1, -2, 3], shape: [3],
                              quantization: Quantization(scale: 1e-30, zeroPoint: Int32.min))
        let y = b.addTensor("y", .float32, [2, 3])
        let s = b.addTensor("", .int8, [], quantization: Quantization(scale: Float.greatestFiniteMagnitude, zeroPoint: -128))
        b.addOp(.dequantize, inputs: [x], outputs: [y])
        b.inputs = [x]
        b.outputs = [y]
        try withModel(b.serialize()) { m in
            #expect(m.tensors[x].quantization == Quantization(scales: [0.5, 0.25, 0.125], zeroPoints: [0, 128, 255], axis: 1))
            #expect(m.tensors[w].quantization == Quantization(scale: 1e-30, zeroPoint: Int32.min))
            #expect(m.tensors[s].shape == [] && m.tensors[s].elementCount == 1 && m.tensors[s].name == "")
            #expect(m.tensors[s].quantization?.scale == Float.greatestFiniteMagnitude)
            #expect(m.ops[0].name == "")
        }
    }

    @Test func sectionsReassembleIdentically() {
        let file = CorpusSpec.base().serialize()
        #expect(CorpusSections(file).assemble() == file)
        var f = file
        ModelBuilder.refreshHeaderChecksum(&f)
        #expect(f == file)
    }

    @Test func unknownOptionalSectionIsSkipped() throws {
        let file = corpusSections { s in s.sections.insert((sectionKind("XTRA"), 0, [9, 9, 9]), at: 2) }
        try withModel(file) { m in
            #expect(m.sections.count == 6)
            #expect(m.tensors.count == 12 && m.ops.count == 7)
        }
    }

    @Test func sectionsInAnyOrderAndEmptyWeights() throws {
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [4])
        let y = b.addTensor("y", .float32, [4])
        b.addOp(.sigmoid, "s", inputs: [x], outputs: [y])
        b.inputs = [x]
        b.outputs = [y]
        var s = CorpusSections(b.serialize())
        #expect(s[.weights].isEmpty)
        s.sections.reverse()
        try withModel(s.assemble()) { m in
            #expect(m.sections.first?.kind == .weights)
            #expect(m.ops.count == 1 && m.tensors.count == 2)
        }
    }

    @Test func optionalAbsentInputIsMinusOne() throws {
        let file = CorpusSpec.base { s in s.ops[1].inputs[2] = -1 }  // Conv without bias
        try withModel(file) { m in #expect(m.ops[1].inputs == [1, 2, -1]) }
    }

    @Test func everyErrorCodeNameIsKnown() throws {
        let known: Set<String> = [
            "truncated", "bad-magic", "unsupported-version", "header-checksum", "section-checksum",
            "section-out-of-bounds", "section-misaligned", "section-overlap", "missing-section",
            "duplicate-section", "unknown-required-section", "file-length", "reserved-nonzero",
            "bad-tensor-record", "bad-dtype", "bad-shape", "shape-overflow", "data-out-of-bounds",
            "data-misaligned", "data-length-mismatch", "bad-quantization", "bad-string", "bad-graph",
            "unknown-op", "bad-tensor-index", "dangling-tensor", "cyclic-graph", "multiple-producers",
            "bad-attribute", "bad-operands", "bad-signature", "unsupported", "out-of-memory", "bad-input",
        ]
        let codes: [VigilError.Code] = [
            .truncated, .badMagic, .unsupportedVersion, .headerChecksum, .sectionChecksum, .sectionOutOfBounds,
            .sectionMisaligned, .sectionOverlap, .missingSection, .duplicateSection, .unknownSection, .fileLength,
            .reservedNonZero, .badTensorRecord, .badDType, .badShape, .shapeOverflow, .dataOutOfBounds,
            .dataMisaligned, .dataLength, .badQuantization, .badString, .badGraph, .unknownOp, .badTensorIndex,
            .danglingTensor, .cyclicGraph, .multipleProducers, .badAttribute, .badOperands, .badSignature,
            .unsupported, .outOfMemory, .badInput,
        ]
        #expect(Set(codes.map { "\($0.name)" }) == known)
        for c in MalformedCorpus.cases { #expect(known.contains(c.code), "\(c.file): unknown code \(c.code)") }
    }

    @Test(.enabled(if: runtimeLinked, "VigilRuntime is not a dependency of VigilModelTests"))
    func baseModelRuns() throws {
        let probs = try #require(try runBaseModel(input: (0..<16).map { Float($0 % 5) * 0.25 - 0.5 }))
        #expect(probs.count == 3)
        #expect(abs(probs.reduce(0, +) - 1) < 0.02, "softmax output \(probs)")
        for p in probs { #expect(p >= 0 && p <= 1) }
    }
}
