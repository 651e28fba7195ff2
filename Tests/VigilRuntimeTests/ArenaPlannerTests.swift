// GreedyArenaPlanner: live buffers never share memory; chains reuse memory; the interpreter's plan
// keeps results correct through skip connections.
import Foundation
import Testing
@testable import VigilRuntime
import VigilModel

@Suite struct ArenaPlannerTests {
    static func align64(_ n: Int) -> Int { (n + 63) / 64 * 64 }

    /// Checks the planner's invariants on `buffers` and returns the arena size.
    @discardableResult
    static func checkPlan(_ buffers: [GreedyArenaPlanner.Buffer], _ what: String) -> Int {
        let (offsets, size) = GreedyArenaPlanner.plan(buffers)
        #expect(offsets.count == buffers.count, "\(what)")
        var conflicts = 0, first = ""
        for i in buffers.indices {
            #expect(offsets[i] >= 0 && offsets[i] % 64 == 0, "\(what): offset \(offsets[i]) of buffer \(i) not 64-aligned")
            #expect(offsets[i] + buffers[i].size <= size, "\(what): buffer \(i) ends past the arena")
            for j in buffers.indices where j > i {
                let live = buffers[i].first <= buffers[j].last && buffers[j].first <= buffers[i].last
                let disjoint = offsets[i] + buffers[i].size <= offsets[j] || offsets[j] + buffers[j].size <= offsets[i]
                if live && !disjoint && buffers[i].size > 0 && buffers[j].size > 0 {
                    if conflicts == 0 { first = "buffers \(i) \(buffers[i]) at \(offsets[i]) and \(j) \(buffers[j]) at \(offsets[j])" }
                    conflicts += 1
                }
            }
        }
        #expect(conflicts == 0, "\(what): \(conflicts) overlapping live pairs; first \(first)")
        let naive = buffers.reduce(0) { $0 + align64($1.size) }
        #expect(size <= naive, "\(what): arena \(size) exceeds the naive \(naive)")
        // Lower bound: at every step, the live buffers must fit side by side.
        let steps = (buffers.map(\.last).max() ?? -1) + 1
        for k in 0..<max(steps, 0) {
            let live = buffers.filter { $0.first <= k && k <= $0.last }.reduce(0) { $0 + $1.size }
            #expect(size >= live, "\(what): arena \(size) smaller than the \(live) bytes live at step \(k)")
        }
        return size
    }

    @Test(arguments: 0..<40)
    func randomLifetimesNeverOverlap(_ trial: Int) {
        var rng = SplitMix64(seed: 1000 + UInt64(trial))
        let n = rng.int(1...40), steps = rng.int(1...25)
        var buffers: [GreedyArenaPlanner.Buffer] = []
        for _ in 0..<n {
            let first = rng.int(0...(steps - 1))
            let last = rng.int(first...min(steps - 1, first + rng.int(0...8)))
            // many equal and small sizes, some large, some not multiples of 64
            let size = [rng.int(1...64), rng.int(1...5000), 64 * rng.int(1...40), 4096][rng.int(0...3)]
            buffers.append(.init(size: size, first: first, last: last))
        }
        Self.checkPlan(buffers, "trial \(trial)")
    }

    @Test func edgeCases() {
        #expect(GreedyArenaPlanner.plan([]).size == 0)
        Self.checkPlan([.init(size: 100, first: 0, last: 0)], "single")
        // identical lifetimes: no sharing at all
        let same = Self.checkPlan((0..<5).map { _ in .init(size: 64, first: 2, last: 4) }, "same lifetime")
        #expect(same == 5 * 64)
        // disjoint lifetimes: everything shares offset 0
        let chain = Self.checkPlan((0..<5).map { .init(size: 200, first: $0, last: $0) }, "disjoint")
        #expect(chain == 256)
        // touching lifetimes (last == first of the next) are both live at that step
        let touching = Self.checkPlan([.init(size: 64, first: 0, last: 1), .init(size: 64, first: 1, last: 2)], "touching")
        #expect(touching == 128)
        // a gap between two live buffers is reused by a smaller one that fits
        Self.checkPlan([.init(size: 1000, first: 0, last: 0), .init(size: 1000, first: 0, last: 5),
                        .init(size: 500, first: 1, last: 1), .init(size: 2000, first: 2, last: 5)], "gap")
    }

    /// A chain x -> relu -> sigmoid -> ... -> y: the arena ping-pongs between two buffers.
    @Test func chainModelReusesMemory() throws {
        let shape = [1, 5, 16, 16], bytes = product(shape) * 4
        var b = ModelBuilder()
        var t = b.addTensor("x", .float32, shape)
        b.inputs = [t]
        let ops: [(OpCode, [Attribute], (Double) -> Double)] = [
            (.clip, [Attribute(.clipMin, float: -1), Attribute(.clipMax, float: 1)], { min(max($0, -1), 1) }),
            (.leakyRelu, [Attribute(.alpha, float: 0.5)], { $0 < 0 ? 0.5 * $0 : $0 }),
            (.hardSwish, [], { $0 * min(max($0 + 3, 0), 6) / 6 }),
            (.clip, [Attribute(.clipMin, float: 0)], { max($0, 0) }),
            (.leakyRelu, [Attribute(.alpha, float: 0.1)], { $0 < 0 ? 0.1 * $0 : $0 }),
        ]
        for (i, (code, attrs, _)) in ops.enumerated() {
            let y = b.addTensor("t\(i)", .float32, shape)
            b.addOp(code, inputs: [t], outputs: [y], attributes: attrs)
            t = y
        }
        b.outputs = [t]
        var rng = SplitMix64(seed: 161)
        let x = rng.floats(product(shape), -4, 4)
        let r = try runModel(b, [.f32(x)])
        #expect(r.naiveBytes == 6 * bytes)
        #expect(r.arenaBytes < r.naiveBytes)
        #expect(r.arenaBytes == 2 * bytes)
        let ref = x.map { v in ops.reduce(Double(v)) { acc, op in op.2(acc) } }
        expectFloatClose(r.float(), ref, "chain output")
        Self.checkPlacements(r.placements)
    }

    /// A graph output produced by the first op and consumed by nobody must survive the later ops
    /// (its memory must not be handed to buffers that start after its producer).
    @Test func earlyGraphOutputSurvives() throws {
        let shape = [1, 3, 5, 7]
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, shape)
        let o1 = b.addTensor("o1", .float32, shape)
        let a = b.addTensor("a", .float32, shape)
        let c = b.addTensor("c", .float32, shape)
        let o2 = b.addTensor("o2", .float32, shape)
        b.addOp(.clip, inputs: [x], outputs: [o1], attributes: [Attribute(.clipMin, float: 0)])
        b.addOp(.leakyRelu, inputs: [x], outputs: [a], attributes: [Attribute(.alpha, float: 0.5)])
        b.addOp(.clip, inputs: [a], outputs: [c], attributes: [Attribute(.clipMax, float: 0.25)])
        b.addOp(.leakyRelu, inputs: [c], outputs: [o2], attributes: [Attribute(.alpha, float: 2)])
        b.inputs = [x]; b.outputs = [o1, o2]
        var rng = SplitMix64(seed: 163)
        let xf = rng.floats(product(shape), -2, 2)
        let r = try runModel(b, [.f32(xf)])
        expectFloatClose(r.float(0), xf.map { max(Double($0), 0) }, "early output o1")
        expectFloatClose(r.float(1), xf.map { v -> Double in
            let a = v < 0 ? 0.5 * Double(v) : Double(v)
            let c = min(a, 0.25)
            return c < 0 ? 2 * c : c
        }, "late output o2")
        Self.checkPlacements(r.placements)
    }

    /// Placements the interpreter used: no two buffers live at the same step overlap.
    static func checkPlacements(_ p: [ArenaPlacement]) {
        for i in p.indices {
            for j in p.indices where j > i {
                let live = p[i].firstOp <= p[j].lastOp && p[j].firstOp <= p[i].lastOp
                let disjoint = p[i].offset + p[i].size <= p[j].offset || p[j].offset + p[j].size <= p[i].offset
                #expect(!live || disjoint, "placements \(p[i]) and \(p[j]) overlap while both live")
            }
        }
    }

    /// Skip connections and a float conv with scratch: a = clip(x); c = conv(a); d = sigmoid(c);
    /// e = add(a, d) ... the planner must keep `a` alive until the add.
    @Test func residualModelWithScratch() throws {
        let shape = [1, 3, 7, 5]
        var rng = SplitMix64(seed: 162)
        let wf = rng.floats(3 * 3 * 3 * 3), x = rng.floats(product(shape), -2, 2)
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, shape)
        let ta = b.addTensor("a", .float32, shape)
        let tw = b.addConstant("w", float32: wf, shape: [3, 3, 3, 3])
        let tc = b.addTensor("c", .float32, shape)
        let td = b.addTensor("d", .float32, shape)
        let te = b.addTensor("e", .float32, shape)
        let tf = b.addTensor("f", .float32, shape)
        b.addOp(.clip, inputs: [tx], outputs: [ta], attributes: [Attribute(.clipMin, float: -1), Attribute(.clipMax, float: 1)])
        b.addOp(.conv, inputs: [ta, tw], outputs: [tc], attributes: [Attribute(.pads, ints: [1, 1, 1, 1])])
        b.addOp(.sigmoid, inputs: [tc], outputs: [td])
        b.addOp(.add, inputs: [ta, td], outputs: [te])
        b.addOp(.mul, inputs: [te, tx], outputs: [tf])
        b.inputs = [tx]; b.outputs = [tf, tc]
        let r = try runModel(b, [.f32(x)])
        let a = x.map { min(max(Double($0), -1), 1) }
        let win = Window(spatial: [7, 5], kernel: [3, 3], strides: nil, pads: [1, 1, 1, 1], dilations: nil)
        let c = referenceConv(x: a, batch: 1, inChannels: 3, window: win, w: wf.map(Double.init), outChannels: 3, bias: nil, group: 1)
        let f = (0..<a.count).map { i in (a[i] + 1 / (1 + exp(-c[i]))) * Double(x[i]) }
        expectFloatClose(r.float(0), f, "residual output f")
        expectFloatClose(r.float(1), c, "residual output c (graph output consumed mid-graph)")
        #expect(r.placements.contains { $0.tensor == nil && $0.op == 1 }, "conv scratch is planned")
        Self.checkPlacements(r.placements)
        #expect(r.arenaBytes < r.naiveBytes)
    }
}
