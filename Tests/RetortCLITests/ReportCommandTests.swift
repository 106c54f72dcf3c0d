import Foundation
import Testing

@Suite("Fidelity reports from the command line")
struct ReportCommandTests {
    let addition = RetortRun.vectors + "/networks/addition_mlp"
    let boolean = RetortRun.vectors + "/networks/boolean_circuit_handwired"

    @Test("distill with no task runs the bundled addition example and writes its report")
    func exampleRunsWithoutArguments() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Only options that are not the task's: still the bundled example (fewer families keep the test quick).
        let run = try RetortRun("distill", "--surrogates", "program", "table", "--out", directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("bundled example"))
        #expect(run.stdout.contains("task: two-digit addition") && run.stdout.contains("a + b"))
        #expect(run.stdout.contains("interpretation only (algorithm)"))
        #expect(FileManager.default.fileExists(atPath: directory + "/report.html"))
    }

    @Test("fidelity evaluates a saved surrogate on a model and prints the report as JSON")
    func fidelityEvaluatesASavedSurrogate() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let distill = try RetortRun(
            "distill", boolean + "/model.safetensors", "--network", boolean + "/network.json", "--task", boolean + "/task.json",
            "--surrogates", "rule_list", "--out", directory)
        #expect(distill.status == 0, "\(distill.stderr)")
        // The learned network computes the same function: the hand-wired network's rules describe it too.
        let learned = RetortRun.vectors + "/networks/boolean_circuit_learned"
        let run = try RetortRun(
            "fidelity", learned + "/model.safetensors", "--network", learned + "/network.json", "--surrogate",
            directory + "/rule_list.json", "--task", learned + "/task.json", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let surrogate = try #require((report["surrogates"] as? [[String: Any]])?.first)
        let verdict = try #require(surrogate["verdict"] as? [String: Any])
        #expect(verdict["verdict"] as? String == "interpretation_only" && verdict["value"] as? Double == 1)
    }

    @Test("--representation finds the hand-wired circuit's units: representation supported, control near chance")
    func representationSupportedOnTheHandWiredCircuit() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try RetortRun(
            "distill", boolean + "/model.safetensors", "--network", boolean + "/network.json", "--task", boolean + "/task.json",
            "--surrogates", "program", "table", "--representation", "--pairs", "256", "--out", directory, "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let surrogates = try #require(report["surrogates"] as? [[String: Any]])
        let program = try #require(surrogates.first { $0["family"] as? String == "program" })
        #expect((program["verdict"] as? [String: Any])?["verdict"] as? String == "representation_supported")
        let verdicts = try #require(
            ((program["representation"] as? [String: Any])?["verdict"] as? [String: Any])?["variables"] as? [[String: Any]])
        for v in verdicts {
            #expect((v["held_out_iia"] as? Double ?? 0) >= 0.95, "\(v)")
            #expect((v["control_iia"] as? Double ?? 1) < 0.8, "\(v)")
        }
        let table = try #require(surrogates.first { $0["family"] as? String == "table" })
        #expect((table["representation_skipped"] as? String)?.contains("no intermediate variables") == true)
        let html = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
        #expect(html.contains("data-figure=\"representation-program\""))
    }

    @Test("fidelity takes a hand-written program and refuses a --variables name no surrogate has")
    func handWrittenSurrogateAndUnknownVariableName() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let typed = directory + "/typed.json"
        try #"{"retort_surrogate": 1, "family": "program", "body": {"expression": "x3 * ((x1 + x2) mod 2)"}}"#
            .write(toFile: typed, atomically: true, encoding: .utf8)
        let base = [
            "fidelity", boolean + "/model.safetensors", "--network", boolean + "/network.json", "--task", boolean + "/task.json",
            "--surrogate", typed, "--representation", "--pairs", "64",
        ]
        let named = try RetortRun(arguments: base + ["--variables", "x1 + x2"])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(named.stdout.contains("x1 + x2") && named.stdout.contains("2 others not tested"))
        let mistyped = try RetortRun(arguments: base + ["--variables", "x1 + y"])
        #expect(mistyped.status == 64)
        #expect(mistyped.stderr.contains("no surrogate has a variable \"x1 + y\"") && mistyped.stderr.contains("\"x1 + x2\""))
    }

    @Test("representation options out of range, or without a network, are usage errors")
    func representationOptionsAreValidated() throws {
        let base = [
            "distill", boolean + "/model.safetensors", "--network", boolean + "/network.json", "--task", boolean + "/task.json",
        ]
        for extra in [
            ["--pairs", "4611686018427387904"], ["--pairs", "2"], ["--max-variables", "0"], ["--subspace-dimensions", "-1"],
            ["--subspace-steps", "0"], ["--search-sites", "-1"], ["--sites", "@3"], ["--sites", "layers.0.hook_post@x"],
            ["--positions", "last"],
        ] {
            let run = try RetortRun(arguments: base + ["--representation"] + extra)
            #expect(run.status == 64, "\(extra): \(run.stderr)")
        }
        // A negative position after --positions is its value, not an option: parsing gets past it to the next check.
        for positions in [["--positions", "-1"], ["--positions", "-3,-1"], ["--positions", "-2", "--positions", "-1"]] {
            let run = try RetortRun(arguments: base + ["--representation"] + positions + ["--pairs", "2"])
            #expect(run.status == 64 && run.stderr.contains("--pairs must be"), "\(positions): \(run.stderr)")
        }
        let probes = try RetortRun("distill", "--probes", "p.safetensors", "--task", boolean + "/task.json", "--representation")
        #expect(probes.status == 64 && probes.stderr.contains("needs the network"))
    }

    @Test("a surrogate of other variables is refused, naming both variable lists")
    func surrogateOfOtherVariablesIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try RetortRun(
            "distill", boolean + "/model.safetensors", "--network", boolean + "/network.json", "--task", boolean + "/task.json",
            "--surrogates", "program", "--out", directory)
        let run = try RetortRun(
            "fidelity", addition + "/model.safetensors", "--network", addition + "/network.json", "--surrogate",
            directory + "/program.json", "--task", addition + "/task.json")
        #expect(run.status == 1)
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(run.stderr.contains("x1, x2, x3, x4") && run.stderr.contains("has a, b"))
    }

    @Test("a surrogate whose outputs are outside the task's output alphabet is refused")
    func surrogateOfAnotherAlphabetIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try RetortRun("distill", "--surrogates", "program", "--out", directory)
        let memoriser = RetortRun.vectors + "/networks/memoriser"
        let run = try RetortRun(
            "fidelity", memoriser + "/model.safetensors", "--network", memoriser + "/network.json", "--surrogate",
            directory + "/program.json", "--task", memoriser + "/task.json")
        #expect(run.status == 1)
        #expect(run.stderr.contains("output alphabet"), "\(run.stderr)")
    }

    @Test("the HTML report renders in headless Chromium: every figure laid out, no text outside its figure, long texts collapsed")
    func reportRendersInChromium() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try RetortRun("distill", "--surrogates", "program", "table", "--out", directory)
        #expect(run.status == 0, "\(run.stderr)")
        let chromium = try #require(
            ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            }, "this test needs Chromium (.ci/run installs Debian's chromium)")
        // The page itself has no scripts; the test adds one that measures each figure after layout.
        var page = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
        let probe = """
            <script>
            const found = [...document.querySelectorAll('svg[data-figure]')].map(s => {
              const r = s.getBoundingClientRect();
              return s.dataset.figure + ':' + Math.round(r.width) + ':' + Math.round(r.height) + ':' +
                s.querySelectorAll('circle,rect,line,polyline').length;
            });
            document.body.setAttribute('data-render-check', found.join(';'));
            // Text that spills out of its figure (a title or label wider than the figure).
            const spilled = [];
            for (const s of document.querySelectorAll('svg[data-figure]')) {
              const box = s.getBoundingClientRect();
              for (const t of s.querySelectorAll('text')) {
                const r = t.getBoundingClientRect();
                if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
                  spilled.push(s.dataset.figure + ' «' + t.textContent + '»');
              }
            }
            document.body.setAttribute('data-spilled', spilled.join(' | '));
            const details = [...document.querySelectorAll('details.surrogate-text')];
            document.body.setAttribute('data-collapsed', details.length + ':' +
              details.filter(d => !d.open &&
                d.getBoundingClientRect().height <= d.querySelector('summary').getBoundingClientRect().height + 2).length);
            const howto = document.querySelector('aside.howto');
            document.body.setAttribute('data-howto', howto ? String(Math.round(howto.getBoundingClientRect().height)) : '0');
            </script>
            """
        page = page.replacingOccurrences(of: "</body>", with: probe + "</body>")
        try page.write(toFile: directory + "/check.html", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c",
            "exec timeout 120 '\(chromium)' --headless --no-sandbox --disable-gpu --user-data-dir='\(directory)/profile' "
                + "--dump-dom 'file://\(directory)/check.html' > '\(directory)/dom.html' 2> '\(directory)/chromium.log'",
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let dom = try String(contentsOfFile: directory + "/dom.html", encoding: .utf8)
        let marker = "data-render-check=\""
        let start = try #require(dom.range(of: marker), "Chromium did not run the page: \(dom.prefix(300))")
        let rest = dom[start.upperBound...]
        let figures = rest[..<rest.firstIndex(of: "\"")!].split(separator: ";").map { $0.split(separator: ":") }
        let names = Set(figures.map { String($0[0]) })
        #expect(
            names == [
                "fidelity-by-region", "pareto-front", "network-errors", "disagreement-map-program", "disagreement-map-table",
            ])
        for figure in figures {
            #expect(Int(figure[1])! > 100 && Int(figure[2])! > 100, "\(figure) has no size")
            #expect(Int(figure[3])! > 0, "\(figure) draws nothing")
        }
        func attribute(_ name: String) throws -> String {
            let start = try #require(dom.range(of: "\(name)=\""), "no \(name) in the rendered page")
            let rest = dom[start.upperBound...]
            return String(rest[..<rest.firstIndex(of: "\"")!])
        }
        #expect(try attribute("data-spilled") == "", "text outside its figure")
        // The table's 5,000 entries are collapsed, and a collapsed section takes no room on the page.
        let collapsed = try attribute("data-collapsed").split(separator: ":").map { Int($0)! }
        #expect(collapsed[0] >= 1 && collapsed[1] == collapsed[0], "\(collapsed)")
        #expect(Int(try attribute("data-howto"))! > 100, "the how-to-read box is not laid out")
        // A screenshot of the page as a reader first sees it: a PNG of the window's size.
        let shot = Process()
        shot.executableURL = URL(fileURLWithPath: "/bin/sh")
        shot.arguments = [
            "-c",
            "exec timeout 120 '\(chromium)' --headless --no-sandbox --disable-gpu --user-data-dir='\(directory)/profile' "
                + "--window-size=1100,1400 --screenshot='\(directory)/report.png' 'file://\(directory)/report.html' "
                + "2>> '\(directory)/chromium.log'",
        ]
        try shot.run()
        shot.waitUntilExit()
        let png = try Data(contentsOf: URL(fileURLWithPath: directory + "/report.png"))
        #expect(png.count > 10_000 && png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // IHDR: width and height, big-endian, at bytes 16 and 20.
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1100 && height == 1400, "\(width) × \(height)")
    }
}
