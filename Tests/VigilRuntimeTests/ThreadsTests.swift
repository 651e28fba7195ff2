import CVigilKernels
import Foundation
import Testing
import VigilIO
import VigilModel
@testable import VigilRuntime

/// Intra-op threads split each kernel call into disjoint parts of the output, so a model's outputs
/// must be the same bytes with 2 and 3 threads as with 1, for every kernel variant this CPU runs.
@Suite(.serialized) struct ThreadsTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every model in the repository: Models/*/model.vigil and Models/test/*.vigil.
    static func models() -> [String] {
        let fm = FileManager.default
        var paths: [String] = []
        let top = repo.appendingPathComponent("Models")
        for dir in (try? fm.contentsOfDirectory(atPath: top.path)) ?? [] where dir != "test" {
            let p = top.appendingPathComponent(dir).appendingPathComponent("model.vigil").path
            if fm.fileExists(atPath: p) { paths.append("Models/\(dir)/model.vigil") }
        }
        for f in (try? fm.contentsOfDirectory(atPath: top.appendingPathComponent("test").path)) ?? [] where f.hasSuffix(".vigil") {
            paths.append("Models/test/\(f)")
        }
        return paths.sorted()
    }

    /// Outputs of `samples` invocations on deterministic pseudo-random inputs, concatenated, and the
    /// kernel calls that were split across threads.
    static func outputs(_ model: Model, threads: Int, samples: Int = 3) throws -> (bytes: [UInt8], splits: UInt) {
        let interp = try Interpreter(model: model, threads: threads)
        #expect(interp.threads == threads, "\(threads) threads asked, \(interp.threads) started")
        var state: UInt64 = 0x7EAD5
        var out: [UInt8] = []
        for _ in 0..<samples {
            for i in 0..<interp.inputCount {
                let v = interp.input(i)
                for k in 0..<v.bytes.count {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    v.bytes[k] = UInt8(truncatingIfNeeded: state >> 33)
                }
                if v.info.dtype == .float32 {  // finite values in [-2, 2)
                    let n = v.info.elementCount
                    for k in 0..<n {
                        let r = v.bytes.load(fromByteOffset: 4 * k, as: UInt32.self)
                        v.bytes.storeBytes(of: Float(Int32(bitPattern: r) >> 8) / Float(1 << 22), toByteOffset: 4 * k, as: Float.self)
                    }
                }
            }
            interp.invoke()
            for o in 0..<interp.outputCount { out += Array(interp.output(o).bytes) }
        }
        return (out, vigil_pool_tasks(interp.pool))
    }

    /// The int8 models with convolutions large enough to be split (the others may run on one thread).
    static let mustSplit: Set<String> = ["Models/ecg-rhythm/model.vigil", "Models/test/synthetic-ecg-cnn.vigil"]

    @Test func repositoryHasModels() {
        #expect(Self.models().count >= 5, "expected the models under Models/ and Models/test/, found \(Self.models())")
    }

    @Test(arguments: ThreadsTests.models())
    func threadsGiveIdenticalOutputs(_ path: String) async throws { try await withCoresLock {
        let file = try ModelFile(path: Self.repo.appendingPathComponent(path).path)
        let variants = KernelParityTests.variants()
        defer { vigil_kernel_select(variants.last!) }
        for v in variants {
            #expect(vigil_kernel_select(v) != 0)
            let one = try Self.outputs(file.model, threads: 1)
            #expect(!one.bytes.isEmpty)
            for t in [2, 3] {
                let many = try Self.outputs(file.model, threads: t)
                #expect(many.bytes == one.bytes, "\(path) \(String(cString: vigil_kernel_name(v))): \(t) threads differ from 1")
                if Self.mustSplit.contains(path) {
                    #expect(many.splits > 0, "\(path): no kernel call was split across \(t) threads")
                }
            }
        }
    } }

    /// Kernel-level splits on shapes that are not multiples of the split units, against one thread.
    @Test func splitsMatchOneThreadOnOddShapes() async throws { try await withCoresLock {
        var rng = SplitMix64(seed: 41)
        let pool = vigil_pool_create(3)
        defer { vigil_pool_destroy(pool) }
        #expect(vigil_pool_threads(pool) == 3)
        for (rows, cols, k) in [(37, 53, 300), (5, 1000, 77), (64, 19, 129), (130, 260, 40)] {
            let a = rng.int8s(rows * k), b = rng.int8s(cols * k)
            let bias = (0..<rows).map { _ in Int32(rng.int(-5000...5000)) }
            let mult = (0..<rows).map { _ in Int32(rng.int((1 << 30)...(1 << 31) - 1)) }
            let shift = (0..<rows).map { _ in Int32(rng.int(31...40)) }
            var c1 = [Int8](repeating: 0, count: rows * cols), c3 = c1
            bias.withUnsafeBufferPointer { bp in mult.withUnsafeBufferPointer { mp in shift.withUnsafeBufferPointer { sp in
                var q = vigil_requant_rows(bias: bp.baseAddress!, multiplier: mp.baseAddress!, shift: sp.baseAddress!, zero_point: -3, lo: -128, hi: 127)
                vigil_gemm_s8(a, b, Int32(rows), Int32(cols), Int32(k), &q, &c1, cols, 1)
                vigil_par_gemm_s8(pool, a, b, Int32(rows), Int32(cols), Int32(k), &q, &c3, cols, 1)
                #expect(c1 == c3, "gemm_s8 \(rows)x\(cols)x\(k)")
                // [K][cols] layout of the convolution GEMM.
                var bkn = [Int8](repeating: 0, count: cols * k)
                for c in 0..<cols { for kk in 0..<k { bkn[kk * cols + c] = b[c * k + kk] } }
                var pairs = [Int32](repeating: 0, count: rows * ((k + 1) / 2))
                vigil_pack_pairs_s8(a, Int32(rows), Int32(k), &pairs)
                c1 = [Int8](repeating: 0, count: rows * cols); c3 = c1
                vigil_gemm_s8_kn(pairs, bkn, cols, Int32(rows), Int32(cols), Int32(k), &q, &c1, cols)
                vigil_par_gemm_s8_kn(pool, pairs, bkn, cols, Int32(rows), Int32(cols), Int32(k), &q, &c3, cols)
                #expect(c1 == c3, "gemm_s8_kn \(rows)x\(cols)x\(k)")
                // Quad layout: packed activations of x + 128 and weight quads.
                let k4 = (k + 3) / 4
                var u1 = [UInt8](repeating: 0, count: k4 * cols * 4), u3 = u1
                vigil_pack_quads_u8(bkn, cols, Int32(k), Int32(cols), &u1)
                vigil_par_pack_quads_u8(pool, bkn, cols, Int32(k), Int32(cols), &u3)
                #expect(u1 == u3, "pack_quads \(k)x\(cols)")
                var quads = [Int32](repeating: 0, count: rows * k4)
                for r in 0..<rows { for kk in 0..<k { quads[r * k4 + kk / 4] |= Int32(bitPattern: UInt32(UInt8(bitPattern: a[r * k + kk])) << UInt32(8 * (kk % 4))) } }
                c1 = [Int8](repeating: 0, count: rows * cols); c3 = c1
                vigil_gemm_u8s8_k4(quads, u1, Int32(rows), Int32(cols), Int32(k4), &q, &c1, cols)
                vigil_par_gemm_u8s8_k4(pool, quads, u1, Int32(rows), Int32(cols), Int32(k4), &q, &c3, cols)
                #expect(c1 == c3, "gemm_u8s8_k4 \(rows)x\(cols)x\(k)")
            } } }
        }
        // Depthwise: split by channels (each part with its own scratch), and by filters for one channel.
        for (channels, multiplier, h, w, stride) in [(9, 2, 24, 23, 1), (1, 24, 30, 31, 2), (13, 1, 17, 40, 2)] {
            let oh = (h + 2 - 3) / stride + 1, ow = (w + 2 - 3) / stride + 1, oc = channels * multiplier
            var g = vigil_depthwise_geometry(channels: Int32(channels), multiplier: Int32(multiplier), in_h: Int32(h), in_w: Int32(w),
                                             out_h: Int32(oh), out_w: Int32(ow), k_h: 3, k_w: 3, stride_h: Int32(stride), stride_w: Int32(stride),
                                             dilation_h: 1, dilation_w: 1, pad_top: 1, pad_left: 1, input_zero_point: -9)
            let x = rng.int8s(channels * h * w), wt = rng.int8s(oc * 9, -127...127)
            let bias = (0..<oc).map { _ in Int32(rng.int(-5000...5000)) }
            let mult = (0..<oc).map { _ in Int32(rng.int((1 << 30)...(1 << 31) - 1)) }
            let shift = (0..<oc).map { _ in Int32(rng.int(31...40)) }
            let bytes = vigil_depthwise_s8_scratch_bytes(&g), stride3 = (bytes + 63) & ~63
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(stride3 * 3, 64), alignment: 64)
            defer { scratch.deallocate() }
            var y1 = [Int8](repeating: 0, count: oc * oh * ow), y3 = y1
            bias.withUnsafeBufferPointer { bp in mult.withUnsafeBufferPointer { mp in shift.withUnsafeBufferPointer { sp in
                var q = vigil_requant_rows(bias: bp.baseAddress!, multiplier: mp.baseAddress!, shift: sp.baseAddress!, zero_point: 4, lo: -128, hi: 127)
                vigil_depthwise_s8(x, wt, &g, &q, bytes > 0 ? scratch : nil, &y1)
                vigil_par_depthwise_s8(pool, x, wt, &g, &q, bytes > 0 ? scratch : nil, stride3, &y3)
            } } }
            #expect(y1 == y3, "depthwise channels \(channels) multiplier \(multiplier) \(h)x\(w) stride \(stride)")
        }
    } }
}
