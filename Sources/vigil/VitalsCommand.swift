import ArgumentParser
import Foundation
import VigilSensors

/// `vigil vitals --input FILE --signal ecg|ppg|resp [--rate HZ] [--column NAME] [--json]`.
struct VitalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vitals",
        abstract: "Offline vitals from a recording: beats, rate, signal quality.",
        discussion: """
            Reads one signal of a recording and runs the same streaming code the bedside agent runs:
              ecg   R peaks (Pan-Tompkins-class detector), heart rate
              ppg   pulse peaks, pulse rate
              resp  breaths (impedance, belt or ECG-derived respiration), respiration rate

            Inputs: WFDB (.hea with .dat in format 212 or 16), CSV (header row; --column picks the signal; a `time` column in seconds, --time-column/--time-unit, or --rate), NPY ([n] or [n, channels] with --rate; --column picks a channel by number), EDF. ECG is taken in millivolts (µV and V are converted when the file names the unit).

            Output: `beats` are sample indexes (0 = the file's first sample); `rate_bpm[i]` is the per-beat rate 60/RR from beat i-1 to beat i (null for the first beat of an acceptable stretch); `mean_rate_bpm` is 60 / the mean RR over the recording, leaving out intervals more than 30 % from the median of their ten neighbours (missed or extra beats). `quality` lists segments with their signal-quality flags (flat_line, clipping, noise, lead_off, missing): beats in unacceptable segments are not in `beats` but in `rejected_beats`, and rates are never computed from them. Exit status 2 for a bad file or option, naming the file and the line, byte or field. See docs/VITALS.md.

            Examples:
              vigil vitals --input rec.hea --signal ecg --json
              vigil vitals --input Models/ecg-rhythm/data/mitbih-208-excerpt.npy --signal ecg --rate 360 --json
              vigil vitals --input ppg.csv --signal ppg --column hr --time-column timer --time-unit ms
              vigil vitals --input resp.csv --signal resp --rate 100 --json
            """
    )

    enum SignalKind: String, ExpressibleByArgument, CaseIterable { case ecg, ppg, resp }
    enum TimeUnit: String, ExpressibleByArgument, CaseIterable { case s, ms }

    @Option(help: ArgumentHelp("The recording (.hea, .dat, .csv, .npy, .edf).", valueName: "FILE")) var input: String
    @Option(help: ArgumentHelp("What the signal is.", valueName: "ecg|ppg|resp")) var signal: SignalKind
    @Option(help: ArgumentHelp("Sample rate in Hz (required for NPY, and for CSV without a time column).", valueName: "HZ")) var rate: Double?
    @Option(help: ArgumentHelp("The signal: a CSV column or WFDB/EDF signal name, or a 1-based number (default: the first).", valueName: "NAME")) var column: String?
    @Option(help: ArgumentHelp("CSV: the column of sample times (default: a column named `time`).", valueName: "NAME")) var timeColumn: String?
    @Option(help: ArgumentHelp("CSV: unit of the time column.", valueName: "s|ms")) var timeUnit: TimeUnit = .s
    @Flag(help: "Print JSON (format vigil-vitals/1).") var json = false
    @Flag(help: .hidden) var bench = false
    @Option(help: .hidden) var benchChannels = 8
    @Option(help: .hidden) var benchRate = 500.0
    @Option(help: .hidden) var benchSeconds = 600.0

    func validate() throws {
        if let r = rate, !(r.isFinite && r > 0) { throw ValidationError("--rate must be a positive number of Hz") }
        if bench {
            guard benchChannels >= 1, benchRate >= 100, benchSeconds > 0 else { throw ValidationError("bench: channels ≥ 1, rate ≥ 100 Hz, seconds > 0") }
        }
    }

    func run() throws {
        var options = RecordingReader.Options(sampleRate: rate, timeColumn: timeColumn, timeScale: timeUnit == .ms ? 0.001 : 1)
        let ext = (input as NSString).pathExtension.lowercased()
        if let c = column {
            if ext == "npy" {
                // NPY channels have no names: the number is checked against the shape below.
                guard let k = Int(c), k >= 1 else { throw fail("\(input): --column for an .npy file is a 1-based channel number, not '\(c)'") }
            } else {
                options.columns = [c]
            }
        }
        let recording: Recording
        do { recording = try RecordingReader.read(input, options: options) } catch { throw fail(error.detail) }
        var channel: Channel
        if ext == "npy", let c = column, let k = Int(c) {
            guard k <= recording.channels.count else { throw fail("\(input): channel \(k) requested, the file has \(recording.channels.count)") }
            channel = recording.channels[k - 1]
        } else {
            guard let first = recording.channels.first else { throw fail("\(input): no signals") }
            channel = first
        }
        guard !channel.samples.isEmpty else { throw fail("\(input): signal '\(channel.name)' has no samples") }
        if signal == .ecg {
            // The detector and quality thresholds work in millivolts.
            let scale: Float? = switch channel.unit.lowercased() {
            case "uv", "µv", "μv": 0.001
            case "v": 1000
            default: nil
            }
            if let s = scale { channel.samples = channel.samples.map { $0 * s }; channel.unit = "mV" }
        }
        if bench { return try runBench(channel.samples, rate: recording.sampleRate) }

        let fs = recording.sampleRate
        var beats: [Int] = []
        var timeline: QualityTimeline
        do {
            switch signal {
            case .ecg:
                var m = try ECGMonitor(sampleRate: fs)
                let s = SignalQualityAssessor.Settings(for: .ecg)
                timeline = QualityTimeline(window: Int((s.window * fs).rounded()), hop: max(1, Int((s.hop * fs).rounded())))
                for x in channel.samples { m.process(x, onBeat: { beats.append($0.index) }, onQuality: { timeline.record($0, windowEnd: $1) }) }
            case .ppg:
                var m = try PPGMonitor(sampleRate: fs)
                let s = SignalQualityAssessor.Settings(for: .ppg)
                timeline = QualityTimeline(window: Int((s.window * fs).rounded()), hop: max(1, Int((s.hop * fs).rounded())))
                for x in channel.samples { m.process(x, onPulse: { beats.append($0.index) }, onQuality: { timeline.record($0, windowEnd: $1) }) }
            case .resp:
                var m = try RespirationMonitor(sampleRate: fs)
                let s = SignalQualityAssessor.Settings(for: .respiration)
                timeline = QualityTimeline(window: Int((s.window * fs).rounded()), hop: max(1, Int((s.hop * fs).rounded())))
                for x in channel.samples { m.process(x, onBreath: { beats.append($0) }, onQuality: { timeline.record($0, windowEnd: $1) }) }
            }
        } catch {
            throw fail("\(input): \(error.detail)")
        }
        let report = VitalsReport(beats: beats, segments: timeline.segments(total: channel.samples.count), sampleRate: fs)
        if json {
            print(report.json(input: input, signal: signal.rawValue, channel: channel, sampleRate: fs))
        } else {
            print(report.text(input: input, signal: signal.rawValue, channel: channel, sampleRate: fs))
        }
    }

    /// The throughput benchmark (see `ThroughputBenchmark`).
    func runBench(_ samples: [Float], rate: Double) throws {
        guard signal == .ecg else { throw fail("--bench measures the ECG pipeline: use --signal ecg") }
        do {
            let r = try ThroughputBenchmark.run(ecg: samples, rate: rate, channels: benchChannels, sampleRate: benchRate, seconds: benchSeconds)
            print(r.json)
        } catch { throw fail(error.detail) }
    }
}

/// The offline result: beats split by quality, per-beat rates, the mean rate and the segments.
struct VitalsReport {
    var beats: [Int] = []
    var rejected: [Int] = []
    var rates: [Double?] = []
    var meanRate: Double?
    var segments: [QualitySegment]

    init(beats all: [Int], segments: [QualitySegment], sampleRate fs: Double) {
        self.segments = segments
        var previousAccepted: Int? = nil
        var seg = 0
        var lastSegmentOfPrevious = -1
        var validRR: [Int] = []
        for b in all {
            while seg + 1 < segments.count && segments[seg].end <= b { seg += 1 }
            let ok = segments.isEmpty || segments[seg].quality.isAcceptable
            if !ok { rejected.append(b); previousAccepted = nil; continue }
            // An interval counts only inside one acceptable stretch (no rejected beat between).
            let sameStretch = previousAccepted != nil && (lastSegmentOfPrevious == seg || (lastSegmentOfPrevious..<seg).allSatisfy { segments[$0].quality.isAcceptable })
            if let p = previousAccepted, sameStretch {
                rates.append(60 * fs / Double(b - p))
                validRR.append(b - p)
            } else {
                rates.append(nil)
            }
            beats.append(b)
            previousAccepted = b
            lastSegmentOfPrevious = seg
        }
        // Mean RR without outliers: each interval against the median of its ten neighbours.
        var kept: [Int] = []
        for (i, r) in validRR.enumerated() {
            let lo = max(0, i - 5), hi = min(validRR.count, i + 6)
            let neighbours = validRR[lo..<hi].sorted()
            let med = Double(neighbours[neighbours.count / 2])
            if abs(Double(r) - med) <= 0.3 * med { kept.append(r) }
        }
        meanRate = kept.isEmpty ? nil : 60 * fs / (Double(kept.reduce(0, +)) / Double(kept.count))
    }

    private static func num(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "null" }
        return String(format: "%.2f", v)
    }

    func json(input: String, signal: String, channel: Channel, sampleRate fs: Double) -> String {
        func str(_ s: String) -> String {
            var o = "\""
            for ch in s.unicodeScalars {
                switch ch {
                case "\"": o += "\\\""
                case "\\": o += "\\\\"
                case _ where ch.value < 0x20: o += String(format: "\\u%04x", ch.value)
                default: o.unicodeScalars.append(ch)
                }
            }
            return o + "\""
        }
        let n = channel.samples.count
        let good = segments.filter(\.quality.isAcceptable).reduce(0) { $0 + $1.end - $1.start }
        let segs = segments.map { s in
            "{\"start\": \(s.start), \"end\": \(s.end), \"start_s\": \(String(format: "%.3f", Double(s.start) / fs)), \"end_s\": \(String(format: "%.3f", Double(s.end) / fs)), \"acceptable\": \(s.quality.isAcceptable), \"flags\": [\(s.quality.flags.names.map(str).joined(separator: ", "))]}"
        }
        return """
            {"format": "vigil-vitals/1", "input": \(str(input)), "signal": \(str(signal)), "channel": \(str(channel.name)), "unit": \(str(channel.unit)),
             "sample_rate_hz": \(fs), "samples": \(n), "duration_s": \(String(format: "%.3f", Double(n) / fs)),
             "rate_kind": "per_beat", "rate_unit": "/min",
             "beats": [\(beats.map(String.init).joined(separator: ", "))],
             "rate_bpm": [\(rates.map(Self.num).joined(separator: ", "))],
             "mean_rate_bpm": \(Self.num(meanRate)),
             "rejected_beats": [\(rejected.map(String.init).joined(separator: ", "))],
             "acceptable_fraction": \(String(format: "%.4f", n > 0 ? Double(good) / Double(n) : 0)),
             "quality": [\(segs.joined(separator: ",\n  "))]}
            """
    }

    func text(input: String, signal: String, channel: Channel, sampleRate fs: Double) -> String {
        var lines = ["\(input): \(signal) '\(channel.name)' \(channel.samples.count) samples at \(fs) Hz (\(String(format: "%.1f", Double(channel.samples.count) / fs)) s)",
                     "beats: \(beats.count) accepted, \(rejected.count) in poor-quality segments",
                     "mean rate: \(meanRate.map { String(format: "%.1f /min", $0) } ?? "unavailable")"]
        for s in segments where !s.quality.isAcceptable {
            lines.append(String(format: "poor quality %.2f–%.2f s: ", Double(s.start) / fs, Double(s.end) / fs) + s.quality.description)
        }
        return lines.joined(separator: "\n")
    }
}
