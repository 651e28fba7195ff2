import ArgumentParser
import Dispatch

/// The entry point. The command runs as a task on the global executor while the main thread waits
/// on a semaphore. An `async` main would end the main thread in `dispatch_main`, whose
/// `pthread_exit` unwinds the main stack through every library's unwind tables at start-up: 332 KB
/// of the `vigil` binary's `.eh_frame_hdr` alone stayed resident for pages never read again
/// (docs/PERFORMANCE.md). Nothing here runs on the main actor or the main queue.
@main
enum VigilMain {
    static func main() {
        let done = DispatchSemaphore(value: 0)
        // Detached: `main` is main-actor isolated, and a task inheriting that would wait for the
        // main queue this thread never drains.
        Task.detached {
            await VigilCommand.main()
            done.signal()
        }
        done.wait()
    }
}

struct VigilCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Vigil: int8 inference runtime and bedside agent.",
        discussion: """
            Examples:
              vigil inspect Models/test/synthetic-ecg-cnn.vigil
              vigil infer Models/test/synthetic-ecg-cnn.vigil --input X.npy --output Y.npy
              vigil bench Models/test/synthetic-ecg-cnn.vigil --runs 200 --json
              vigil run --duration 20
              vigil alerts replay --input Tests/Fixtures/alerts/deterioration.csv --json
              vigil vitals --input Models/ecg-rhythm/data/mitbih-208-excerpt.npy --signal ecg --rate 360 --json
              vigil dicom CT_small.dcm --output ct.npy --stage modality
            """,
        version: vigilVersion,
        subcommands: [InferCommand.self, InspectCommand.self, BenchCommand.self, AlertsCommand.self, RunCommand.self, DicomCommand.self, VitalsCommand.self]
    )
}

let vigilVersion = "0.1.0"

/// Exit codes: 0 success, 1 a runtime failure, 2 bad input (file, shape, dtype), 3 a model whose
/// signature does not verify against the trusted keys, 64 usage.
enum Exit {
    static let badInput = ExitCode(2)
    static let failure = ExitCode(1)
    static let untrusted = ExitCode(3)
}

/// Prints to stderr and exits with `code`.
func fail(_ message: String, _ code: ExitCode = Exit.badInput) -> ExitCode {
    var err = StandardError()
    print("vigil: \(message)", to: &err)
    return code
}

struct StandardError: TextOutputStream {
    mutating func write(_ s: String) {
        FileHandle.standardError.write(s.data(using: .utf8)!)
    }
}

import Foundation
