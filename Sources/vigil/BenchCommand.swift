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
            """
    )

    @Argument(help: "The .vigil model.") var model: String
    @Option(help: "Timed invocations.") var runs = 100
    @Option(help: "Untimed warm-up invocations.") var warmup = 5
    @Option(help: "Intra-op threads (only 1 is implemented; others are refused).") var threads = 1
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard threads == 1 else { throw ValidationError("--threads \(threads): intra-op threading is not implemented yet; use 1") }
    }

    func run() throws {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let file: ModelFile
        do { file = try ModelFile(path: model) } catch { throw fail("\(error)") }
        let interp: Interpreter
        do { interp = try Interpreter(model: file.model) } catch { throw fail("\(model): \(error)") }
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
        for _ in 0..<warmup { interp.invoke() }
        var times = [Double](repeating: 0, count: runs)
        for i in 0..<runs {
            let a = DispatchTime.now().uptimeNanoseconds
            interp.invoke()
            times[i] = Double(DispatchTime.now().uptimeNanoseconds - a) / 1000
        }
        times.sort()
        func pct(_ p: Double) -> Double { times[min(times.count - 1, Int((p * Double(times.count - 1)).rounded(.up)))] }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let kernel = String(cString: vigil_kernel_name(vigil_kernel_selected()))
        let result: [(String, String)] = [
            ("model", "\"\(model)\""), ("runs", "\(runs)"), ("threads", "\(threads)"),
            ("median_us", String(format: "%.1f", pct(0.5))), ("p99_us", String(format: "%.1f", pct(0.99))),
            ("min_us", String(format: "%.1f", times[0])), ("load_us", String(format: "%.1f", loadUs)),
            ("arena_bytes", "\(interp.arenaBytes)"), ("naive_activation_bytes", "\(interp.naiveBytes)"),
            ("model_bytes", "\(file.byteCount)"), ("peak_rss_kib", "\(usage.ru_maxrss)"), ("kernel", "\"\(kernel)\""),
        ]
        if json {
            print("{" + result.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        } else {
            for (k, v) in result { print("\(k.padding(toLength: 24, withPad: " ", startingAt: 0)) \(v)") }
        }
    }
}
