// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Retort",
    products: [
        .library(name: "WeightFiles", targets: ["WeightFiles"]),
        .executable(name: "retort", targets: ["retort"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // C kernels compiled for specific CPU features by function attributes and chosen
        // at run time, so the package needs no unsafe flags.
        .target(name: "CRetortKernels"),
        .target(
            name: "WeightFiles",
            dependencies: ["CZlib", "CRetortKernels"]
        ),
        .executableTarget(
            name: "retort",
            dependencies: [
                "WeightFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "WeightFilesTests",
            dependencies: ["WeightFiles"]
        ),
        .testTarget(
            name: "RetortCLITests",
            dependencies: ["WeightFiles", "retort"]
        ),
    ]
)
