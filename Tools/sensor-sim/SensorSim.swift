import ArgumentParser
import SensorBridgeCore
import SensorLink
#if canImport(Glibc)
import Glibc
#endif

/// Runs the sensor-bridge firmware logic (`SensorBridge`) against `SimulatedBoard` and writes the
/// SensorLink wire bytes it produces to stdout, a pseudo-terminal, a path or a TCP client.
@main
struct SensorSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensor-sim",
        abstract: "Simulate the sensor bridge: the firmware's own code on emulated ADS1292R and MAX30102 chips.",
        discussion: """
        Signals: with --input, a 1-D float32 NPY recording in mV replaces the ECG channel. It is quantized
        to whole ADC units (--adc-gain units/mV, zero at --adc-zero; MIT-BIH: 200 and 1024) and must be
        exact, and the simulated front end paces DRDY at the recording's rate (--input-rate), which the
        hello announces; no resampling. Respiration and PPG stay synthetic. Without --input all four
        channels are synthetic (ECG-like at --heart-rate, PPG red/IR with ratio of ratios --ratio).

        Output: the wire bytes go to --output: stdout, pty (creates a pseudo-terminal and prints
        "sensor-sim: pty /dev/pts/N" on stdout), tcp:PORT (waits for one client), or a path. The UART
        is paced at --baud (8N1). At the end a JSON report goes to --report and stderr.

        Injection (--inject, comma-separated, reproducible with --seed): lead-off@10s[-20s] (IN2P and
        IN2N report no contact), noise:SIGMA (Gaussian, ECG counts), drop-bytes:P (each byte lost with
        probability P), corrupt:P (each frame gets one changed byte with probability P). The boot hello
        and the end-of-run flush are never damaged, so a receiver can count every lost frame.

        Examples:
          sensor-sim --duration 10 --output stdout > stream.bin
          sensor-sim --input Models/ecg-rhythm/data/mitbih-208-excerpt.npy --input-rate 360 --output pty
          sensor-sim --speed max --duration 60 --inject corrupt:0.01,drop-bytes:0.0005 --seed 7 --output tcp:9000
          sensor-sim --inject lead-off@10s-15s,noise:200 --output /dev/ttyUSB0
        """
    )

    @Option(help: "Recording to replay on the ECG channel: 1-D float32 NPY, millivolts.")
    var input: String?

    @Option(help: "Sample rate of --input in Hz.")
    var inputRate: Double = 360

    @Option(help: "ADC units per mV of --input (MIT-BIH: 200).")
    var adcGain: Double = 200

    @Option(help: "ADC code of 0 mV in --input (MIT-BIH: 1024).")
    var adcZero: Int32 = 1024

    @Option(help: "Seconds of signal to play (default: the whole recording, or 10 s synthetic).")
    var duration: Double?

    @Option(help: "realtime (paced to the wall clock) or max (as fast as the output takes it).")
    var speed: Speed = .realtime

    @Option(help: "stdout, pty, tcp:PORT, or a path.")
    var output: String = "stdout"

    @Option(help: "UART baud rate (8N1) the firmware's output is paced to.")
    var baud: Int = 921_600

    @Option(help: "Faults to inject, e.g. lead-off@10s,drop-bytes:0.001,corrupt:0.001.")
    var inject: String = ""

    @Option(help: "Seed of the injection and noise random numbers.")
    var seed: UInt64 = 1

    @Option(help: "Synthetic heart rate, /min.")
    var heartRate: Double = 72

    @Option(help: "Synthetic PPG ratio of ratios (AC/DC red over AC/DC IR).")
    var ratio: Double = 0.5

    @Option(help: "Write the JSON report here too.")
    var report: String?

    @Option(help: "Seconds to keep the output open after the last byte (lets a pty reader drain).")
    var hold: Double = 1

    enum Speed: String, ExpressibleByArgument { case realtime, max }

    func validate() throws {
        if let d = duration, !(d > 0) { throw ValidationError("--duration must be > 0") }
        if !(inputRate > 0) { throw ValidationError("--input-rate must be > 0") }
        if baud < 1200 { throw ValidationError("--baud must be at least 1200") }
        if !(0...100).contains(ratio) { throw ValidationError("--ratio must be in 0...100") }
    }

    func run() throws {
        do {
            try simulate()
        } catch let error as SimError {
            printError("sensor-sim: \(error)")
            throw ExitCode(2)
        }
    }

    private func simulate() throws(SimError) {
        let plan = try InjectionPlan(parsing: inject)
        var noise = SeededGenerator(seed: seed ^ 0x5EED_0F_0015E)
        var synthetic = SyntheticSignals()
        synthetic.heartRate = heartRate
        synthetic.ratio = ratio

        var config = BridgeConfiguration()
        let board = SimulatedBoard()
        board.uartBytesPerSecond = baud / 10
        let seconds: Double
        var ecgRate = config.ecg.rate
        if let input {
            let recording = try Recording(path: input, gain: adcGain, zero: adcZero)
            ecgRate = SampleRate(milliHertz: UInt32((inputRate * 1000).rounded()))
            seconds = min(duration ?? .infinity, Double(recording.codes.count) / inputRate)
            let count = UInt64((seconds * inputRate).rounded(.down))
            config.ecg = ChannelSettings(rate: ecgRate, format: .int16, unit: .millivolt, scale: Float(1 / adcGain),
                                         offset: adcZero, blockSamples: 25, ringCapacity: 256)
            config.respiration.rate = ecgRate
            board.ecgRateOverride = ecgRate
            let codes = recording.codes
            let sigma = plan.noiseSigma
            board.ecgSignal = { i in
                guard i < count else { return nil }
                var ecg = codes[Int(i)]
                if sigma > 0 { ecg = min(max(ecg &+ Int32((noise.gaussian() * sigma).rounded()), -32768), 32767) }
                return (synthetic.frontEnd(i, rate: ecgRate).respiration, ecg)
            }
        } else {
            seconds = duration ?? 10
            let count = UInt64((seconds * ecgRate.hertz).rounded(.down))
            let sigma = plan.noiseSigma
            board.ecgSignal = { i in
                guard i < count else { return nil }
                var s = synthetic.frontEnd(i, rate: ecgRate)
                if sigma > 0 { s.ecg &+= Int32((noise.gaussian() * sigma).rounded()) }
                return s
            }
        }
        let ppgRate = board.ppgRate
        let ppgCount = UInt64((seconds * ppgRate.hertz).rounded(.down))
        board.ppgSignal = { i in i < ppgCount ? synthetic.oximeter(i, rate: ppgRate) : nil }

        let out = try WireOutput(output, baud: baud)
        var injector = Injector(plan: plan, seed: seed)
        var bridge = SensorBridge(board: board, configuration: config)
        var bytesWritten = 0
        var readerGone = false
        func emit() {
            let wire = injector.process(board.takeOutput())
            if !wire.isEmpty && !readerGone {
                readerGone = !out.write(wire)
                bytesWritten += wire.count
            }
        }

        bridge.boot()
        emit()
        let t0 = board.now
        let wall0 = monotonicSeconds()
        let end = t0 + UInt64(seconds * 1_000_000)
        while board.now < end && !readerGone && !(board.ecgEnded && board.ppgEnded) {
            // Wake at the next sample or after 1 ms (the UART drains between samples too).
            let next = min(board.nextSampleTime ?? end, board.now + 1_000, end)
            board.advance(to: max(next, board.now + 1))
            board.leadOff = plan.leadOff(at: Double(board.now - t0) / 1e6) ? 0x0C : 0
            bridge.poll()
            emit()
            if speed == .realtime { pace(virtual: Double(board.now - t0) / 1e6, since: wall0) }
        }
        // End of signal: no more samples; send what is buffered, undamaged.
        board.ecgSignal = { _ in nil }
        board.ppgSignal = { _ in nil }
        injector.enabled = false
        var flushed = false
        while !readerGone && (!flushed || bridge.transmitPending > 0) {
            board.advance(to: board.now + 1_000)
            flushed = flushed || bridge.flush()
            bridge.pumpTransmitter()
            emit()
            if speed == .realtime { pace(virtual: Double(board.now - t0) / 1e6, since: wall0) }
        }
        let wall = monotonicSeconds() - wall0
        if hold > 0 && !readerGone { usleep(UInt32(hold * 1_000_000)) }
        out.close()

        let lost = injector.samplesLost
        let json = """
        {"output": "\(out.description)", "virtual_seconds": \(Double(board.now - t0) / 1e6), "wall_seconds": \(wall), \
        "ecg_rate_hz": \(ecgRate.hertz), "ecg_samples": \(board.ecgSamplesProduced), "ppg_samples": \(board.ppgSamplesProduced), \
        "frames": \(injector.framesSeen), "bytes_written": \(bytesWritten), "frames_corrupted": \(injector.framesCorrupted), \
        "frames_with_dropped_bytes": \(injector.framesWithDroppedBytes), "bytes_dropped": \(injector.bytesDropped), \
        "frames_lost": \(injector.framesLost), "ecg_samples_lost": \(lost[BridgeChannel.ecg] ?? 0), \
        "device_dropped_samples": \(bridge.droppedSamples), "ecg_samples_overwritten": \(board.ecgSamplesOverwritten), \
        "reader_gone": \(readerGone)}
        """
        printError("sensor-sim: report \(json)")
        if let report {
            guard let f = fopen(report, "w") else { throw SimError.errno("report", "open \(report)") }
            fputs(json + "\n", f)
            fclose(f)
        }
        if readerGone { throw SimError("reader-gone", "\(out.description): the reader went away after \(bytesWritten) bytes") }
    }

    private func pace(virtual: Double, since wall0: Double) {
        let ahead = virtual - (monotonicSeconds() - wall0)
        if ahead > 0.002 { usleep(UInt32(ahead * 1_000_000)) }
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Writes a line to stderr (fd 2) without touching the C `stderr` global.
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
