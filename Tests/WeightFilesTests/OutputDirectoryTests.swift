import Foundation
import Testing
import WeightFiles

#if canImport(Glibc)
    import Glibc
#endif

/// The thrown `outputDirectory` reason, or nil.
private func refusal(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch WeightFileError.outputDirectory(_, let reason) {
        return reason
    } catch {
        return "unexpected \(error)"
    }
}

private func names(_ path: String) throws -> Set<String> { Set(try FileManager.default.contentsOfDirectory(atPath: path)) }

private func anyName(_ name: String) -> Bool { true }

@Suite("Output folders")
struct OutputDirectoryTests {
    @Test("files go into a temporary folder; the destination and its missing parents appear only on commit")
    func appearsOnCommit() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = try OutputDirectory(path: root + "/a/b/out", overwrite: false, replaceable: anyName)
        try Data([1]).write(to: URL(fileURLWithPath: folder.file("x.json")))
        #expect(!FileManager.default.fileExists(atPath: root + "/a/b/out"))
        try folder.commit()
        #expect(try names(root + "/a/b/out") == ["x.json"])
        #expect(try names(root + "/a/b") == ["out"])
    }

    @Test("an abandoned folder leaves nothing, not even the parents it created")
    func abandonLeavesNothing() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = try OutputDirectory(path: root + "/a/b/out", overwrite: false, replaceable: anyName)
        try Data([1]).write(to: URL(fileURLWithPath: folder.file("x.json")))
        folder.abandon()
        #expect(try names(root).isEmpty)
    }

    @Test("an existing folder that is not empty needs overwrite; an empty one does not")
    func nonEmptyNeedsOverwrite() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: false)
        try OutputDirectory(path: root + "/empty", overwrite: false, replaceable: anyName).commit()
        try FileManager.default.createDirectory(atPath: root + "/full", withIntermediateDirectories: false)
        try Data([1]).write(to: URL(fileURLWithPath: root + "/full/old.json"))
        let reason = refusal { _ = try OutputDirectory(path: root + "/full", overwrite: false, replaceable: anyName) }
        #expect(reason == "exists and is not empty (use --force to replace it)")
        #expect(try names(root) == ["empty", "full"])
    }

    @Test("replacing swaps the whole folder: none of the earlier files stay beside the new ones")
    func replaceLeavesNoEarlierFile() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: false)
        for name in ["old.json", "shared.json"] { try Data([1]).write(to: URL(fileURLWithPath: root + "/out/" + name)) }
        let folder = try OutputDirectory(path: root + "/out/", overwrite: true, replaceable: { $0.hasSuffix(".json") })
        try Data([2]).write(to: URL(fileURLWithPath: folder.file("shared.json")))
        #expect(try names(root + "/out") == ["old.json", "shared.json"])  // untouched until commit
        try folder.commit()
        #expect(try names(root + "/out") == ["shared.json"])
        #expect(FileManager.default.contents(atPath: root + "/out/shared.json") == Data([2]))
        #expect(try names(root) == ["out"])
    }

    @Test("a folder filled by someone else during the run is not replaced at commit without overwrite")
    func filledDuringTheRun() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = try OutputDirectory(path: root + "/out", overwrite: false, replaceable: anyName)
        try Data([1]).write(to: URL(fileURLWithPath: folder.file("x.json")))
        try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: false)
        try Data([2]).write(to: URL(fileURLWithPath: root + "/out/theirs.json"))
        #expect(refusal { try folder.commit() } == "exists and is not empty (use --force to replace it)")
        folder.abandon()
        #expect(try names(root + "/out") == ["theirs.json"])
        #expect(try names(root) == ["out"])
    }

    @Test("a folder holding a file the run does not write, or one of its inputs, is never replaced")
    func foreignFilesAndInputsAreKept() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: false)
        for name in ["report.json", "notes.txt"] { try Data([1]).write(to: URL(fileURLWithPath: root + "/out/" + name)) }
        let foreign = refusal {
            _ = try OutputDirectory(path: root + "/out", overwrite: true, replaceable: { $0 == "report.json" })
        }
        #expect(foreign == "holds notes.txt, which this command does not write; not replaced, even with --force")
        let input = refusal {
            _ = try OutputDirectory(path: root + "/out", inputs: [root + "/out/../out/report.json"], overwrite: true, replaceable: anyName)
        }
        #expect(input == "holds the input \(root)/out/../out/report.json; not replaced")
        #expect(try names(root + "/out") == ["report.json", "notes.txt"])
        #expect(try names(root) == ["out"])
    }

    @Test("a file, a link, `.` and `..` are refused as output folders")
    func notFolders() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data([1]).write(to: URL(fileURLWithPath: root + "/file"))
        #expect(symlink(root, root + "/link") == 0)
        #expect(refusal { _ = try OutputDirectory(path: root + "/file", overwrite: true, replaceable: anyName) } == "is a file, not a folder")
        #expect(
            refusal { _ = try OutputDirectory(path: root + "/link", overwrite: true, replaceable: anyName) }
                == "is a symbolic link, not a folder")
        for path in [".", root + "/..", root + "/."] {
            #expect(
                refusal { _ = try OutputDirectory(path: path, overwrite: true, replaceable: anyName) }
                    == "cannot be replaced as a whole; name a folder inside it")
        }
    }

    @Test("a killed run's temporary folder is removed by the next run to the same folder; a live run's stays")
    func staleTemporaryFoldersRemoved() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = root + "/.out.retort-\(finished.processIdentifier)-a1B2c3"
        let live = root + "/.out.retort-\(getpid())-zzzzzz"
        for path in [dead, live] {
            try FileManager.default.createDirectory(atPath: path + "/sub", withIntermediateDirectories: true)
            try Data([0]).write(to: URL(fileURLWithPath: path + "/sub/x"))
        }
        try OutputDirectory(path: root + "/out", overwrite: false, replaceable: anyName).commit()
        #expect(try names(root) == ["out", ".out.retort-\(getpid())-zzzzzz"])
    }
}
