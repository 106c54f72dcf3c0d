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
        .target(
            name: "WeightFiles",
            dependencies: ["CZlib"]
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
