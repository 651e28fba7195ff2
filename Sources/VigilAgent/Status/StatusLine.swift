import Foundation
import VigilAlerts

/// The live one-line status on a terminal: heart rate, SpO2, last prediction, open alarms.
/// Written with a carriage return over itself when stderr is a terminal; silent otherwise (logs
/// carry the same facts for journald).
struct StatusLine: Sendable {
    let enabled: Bool

    init() { enabled = isatty(STDERR_FILENO) == 1 }

    static func render(vitals: VitalSigns, prediction: PredictionRecord?, alarms: [AlarmSnapshot], news2: Int?, uptime: Double) -> String {
        func show(_ v: Double?, _ unit: String) -> String { v.map { "\(Int($0.rounded()))\(unit)" } ?? "--" }
        var parts = ["HR \(show(vitals.heartRate, "/min"))", "SpO2 \(show(vitals.spo2, "%"))", "RR \(show(vitals.respirationRate, "/min"))"]
        if let p = prediction {
            if let label = p.label, let top = p.scores.max() {
                parts.append("\(p.model.id): \(label) \(String(format: "%.2f", top))")
            } else {
                parts.append("\(p.model.id): withheld (signal)")
            }
        }
        if let news2 { parts.append("NEWS2 \(news2)") }
        if alarms.isEmpty {
            parts.append("no alarms")
        } else {
            let worst = alarms.map(\.priority).max()!
            parts.append("\(alarms.count) alarm\(alarms.count == 1 ? "" : "s") (\(worst.name)): " + alarms.prefix(3).map { $0.condition.code }.joined(separator: ", "))
        }
        parts.append(String(format: "up %.0fs", uptime))
        return parts.joined(separator: " | ")
    }

    func show(_ line: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
