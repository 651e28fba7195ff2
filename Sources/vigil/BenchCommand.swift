import ArgumentParser
import CVigilKernels
import Foundation
import VigilIO
import VigilModel
import VigilRuntime

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a model's latency, load time, arena and peak memory.",
        discussion: """
            Loads the model (mmap, validation, weight preparation), warms up, then times `--runs`
            invocations on a deterministic pseudo-random input. Compare ratios from one run: the
            machines are shared and noisy.

            Example:
              vigil bench Models/test/synthetic-ecg-cnn.vigil --runs 200 --json
              vigil bench Models/test/synthetic-ecg-cnn.vigil --threads 2
            """
    )

    @Argument(help: "The .vigil model.") var model: String
    @Option(help: "Timed invocations.") var runs = 100
    @Option(help: "Untimed warm-up invocations.") var warmup = 5
    @Option(help: "Intra-op threads: conv, depthwise and fully connected kernels split their output across T threads (outputs identical to T = 1).") var threads = 1
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "After the timed runs, time every operator over another --runs invocations and print a per-op table (median µs, share; in --json as \"profile\").") var profile = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads \(threads): must be between 1 and 256") }
    }

    func run() throws {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let file: ModelFile
        do { file = try ModelFile(path: model) } catch { throw fail("\(error)") }
        let interp: Interpreter
        do { interp = try Interpreter(model: file.model, threads: threads) } catch { throw fail("\(model): \(error)") }
        let loadUs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000
        var state: UInt64 = 0x5EED
        for i in 0..<interp.inputCount {
            let v = interp.input(i)
            for k in 0..<v.info.elementCount {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let r = Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
                switch v.info.dtype {
                case .float32: v.bytes.storeBytes(of: r, toByteOffset: 4 * k, as: Float.self)
                case .int8: v.bytes.storeBytes(of: Int8(r * 127), toByteOffset: k, as: Int8.self)
                case .uint8: v.bytes.storeBytes(of: UInt8(r * 127 + 128), toByteOffset: k, as: UInt8.self)
                case .int32: v.bytes.storeBytes(of: Int32(r * 1000), toByteOffset: 4 * k, as: Int32.self)
                }
            }
        }
        // The arena planner reuses an input's bytes once its last reader has run, so the input is
        // stored again before every invocation (inside the timed region, as a caller must do);
        // otherwise later runs would read whatever scratch was left there (for float inputs often
        // denormals, which make the input Quantize's division ~20x slower).
        let saved: [[UInt8]] = (0..<interp.inputCount).map { Array(interp.input($0).bytes) }
        let inputs = (0..<interp.inputCount).map { interp.input($0).bytes }
        @inline(__always) func storeInputs() {
            for i in 0..<inputs.count { saved[i].withUnsafeBytes { inputs[i].copyMemory(from: $0) } }
        }
        for _ in 0..<warmup { storeInputs(); interp.invoke() }
        var times = [Double](repeating: 0, count: runs)
        for i in 0..<runs {
            let a = DispatchTime.now().uptimeNanoseconds
            storeInputs()
            interp.invoke()
            times[i] = Double(DispatchTime.now().uptimeNanoseconds - a) / 1000
        }
        times.sort()
        func pct(_ p: Double) -> Double { times[min(times.count - 1, Int((p * Double(times.count - 1)).rounded(.up)))] }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let kernel = String(cString: vigil_kernel_name(vigil_kernel_selected()))
        let result: [(String, String)] = [
            ("model", "\"\(model)\""), ("runs", "\(runs)"), ("threads", "\(interp.threads)"),
            ("median_us", String(format: "%.1f", pct(0.5))), ("p99_us", String(format: "%.1f", pct(0.99))),
            ("min_us", String(format: "%.1f", times[0])), ("load_us", String(format: "%.1f", loadUs)),
            ("arena_bytes", "\(interp.arenaBytes)"), ("naive_activation_bytes", "\(interp.naiveBytes)"),
            ("model_bytes", "\(file.byteCount)"), ("peak_rss_kib", "\(usage.ru_maxrss)"), ("kernel", "\"\(kernel)\""),
            // The variant and path of every planned operator family, e.g. {"conv": ["avx2/direct", "avx2/quads"]}.
            ("kernels", "{" + interp.kernelPaths.map { f in
                "\"\(f.family)\": [" + f.paths.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
            }.joined(separator: ", ") + "}"),
        ]
        var result2 = result
        if profile {
            let n = interp.model.ops.count
            var samples = [UInt64](repeating: 0, count: n * runs)
            samples.withUnsafeMutableBufferPointer { buf in
                for r in 0..<runs {
                    storeInputs()
                    interp.invoke(perOp: UnsafeMutableBufferPointer(rebasing: buf[(r * n)..<(r * n + n)]), clock: { DispatchTime.now().uptimeNanoseconds })
                }
            }
            // Median per operator over the profiled runs (the machine is noisy; means chase outliers).
            var acc = [UInt64](repeating: 0, count: n)
            for k in 0..<n {
                let v = (0..<runs).map { samples[$0 * n + k] }.sorted()
                acc[k] = v[v.count / 2]
            }
            let total = max(Double(acc.reduce(0, &+)), 1)
            var rows: [String] = []
            for k in 0..<n {
                let op = interp.model.ops[k]
                let us = Double(acc[k]) / 1000
                let shape = op.outputs.first.map { "\(interp.model.tensors[$0].shape)" } ?? "[]"
                if json {
                    rows.append("{\"op\": \(k), \"code\": \"\(op.code.name)\", \"out\": \"\(shape)\", \"median_us\": \(String(format: "%.2f", us))}")
                } else {
                    rows.append(String(format: "%3d %-18@ %-22@ %9.2f us %5.1f%%", k, op.code.name as NSString, shape as NSString, us, 100 * Double(acc[k]) / total))
                }
            }
            if json {
                result2.append(("profile", "[" + rows.joined(separator: ", ") + "]"))
            } else {
                print("per-op profile (median of each op over \(runs) profiled runs; clock read per op):")
                for r in rows { print(r) }
                print(String(format: "    sum of medians %.2f us", total / 1000))
            }
        }
        let out = result2
        if json {
            print("{" + out.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        } else {
            for (k, v) in out { print("\(k.padding(toLength: 24, withPad: " ", startingAt: 0)) \(v)") }
        }
    }
}
