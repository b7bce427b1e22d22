# Bronze: build, test and run. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := build

NODE_MODULES_STAMP := node_modules/.bronze-deps
PROTO_APT_PACKAGES := protobuf-compiler libprotobuf-dev
# the tests' tools; grpc-go (built offline against Debian's Go packages) and gRPC's C core for Python are clients that
# share no code with ours
APT_PACKAGES := openssl ca-certificates iproute2 dnsmasq-base etcd-server etcd-client containerd runc busybox-static python3-grpcio python3-protobuf golang-go golang-google-grpc-dev golang-google-protobuf-dev $(PROTO_APT_PACKAGES)
# the image build's tools (the arm64 GRUB modules come from the arm64 package, fetched by the build)
IMAGE_APT_PACKAGES := squashfs-tools cpio xz-utils zstd kmod binutils gcc libc6-dev gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross xorriso mtools grub-common grub-pc-bin grub-efi-amd64-bin qemu-system-x86 qemu-system-arm ovmf qemu-efi-aarch64 seabios xfsprogs qemu-user-static icu-devtools
ARCH ?= amd64

.PHONY: native deps apt-deps build test test-unit test-integration test-e2e run proto lint typecheck bench fuzz clean image images image-deps image-repro

## deps: install what is missing (Debian packages, then npm ci when the lockfile changed)
deps: apt-deps $(NODE_MODULES_STAMP)

apt-deps:
	@scripts/apt-ensure $(APT_PACKAGES)

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Node's headers come from the Debian node package (/usr/include/node): node-gyp must not download them
NODEDIR ?= $(shell test -f /usr/include/node/node_api.h && echo /usr)

## build: compile TypeScript into dist/ and the native addon into native/build/
build: $(NODE_MODULES_STAMP) native
	npx tsc -p tsconfig.build.json
	@scripts/build-info
	@chmod +x bin/bronzectl

native: native/build/Release/bronze.node

native/build/Release/bronze.node: native/binding.gyp native/src/*.c $(NODE_MODULES_STAMP)
	@test -n "$(NODEDIR)" || { echo "Node's headers are missing (/usr/include/node/node_api.h): install the Debian nodejs headers" >&2; exit 1; }
	npx node-gyp rebuild --directory native --nodedir=$(NODEDIR) --silent

## lint: biome, import rules (cycles, machinery boundaries)
lint: $(NODE_MODULES_STAMP)
	npx eslint --max-warnings 0 .
	npx depcruise src --config .dependency-cruiser.cjs

typecheck: $(NODE_MODULES_STAMP)
	npx tsc -p tsconfig.json

test-unit: $(NODE_MODULES_STAMP)
	node scripts/run-tests.mjs unit

test-integration: build
	node scripts/run-tests.mjs integration

## test-e2e: build both images and boot them under QEMU (TCG): kernel and ISO boots, ip=, reboot, a qemu cluster
test-e2e: images
	BRONZE_E2E=required node scripts/run-tests.mjs e2e

## test: everything CI runs
test: deps lint typecheck build test-unit test-integration test-e2e image-repro

## proto: regenerate src/api/gen from proto/ (installs Debian's protoc)
proto: $(NODE_MODULES_STAMP)
	@scripts/apt-ensure $(PROTO_APT_PACKAGES)
	scripts/gen-proto

## run: build and start the default local cluster in the foreground (Ctrl-C tears it down)
run: deps build
	./bin/bronzectl cluster create --provisioner process --foreground

## image: the bootable image of ARCH (amd64 or arm64) in _out/: kernel, initramfs, ISO, manifest
image: image-deps build
	scripts/image/build $(ARCH)

## images: both architectures
images: image-deps build
	scripts/image/build amd64
	scripts/image/build arm64

## image-repro: build each architecture once more (after `make images`) and check the squashfs, initramfs and kernel bytes are the same
image-repro: image-deps
	scripts/image/check-repro --against-out amd64
	scripts/image/check-repro --against-out arm64

image-deps:
	@scripts/apt-ensure $(IMAGE_APT_PACKAGES)

bench: $(NODE_MODULES_STAMP)
	npx tsx bench/index.ts $(GROUP)

fuzz: $(NODE_MODULES_STAMP)
	npx tsx bench/fuzz.ts

clean:
	rm -rf dist _out
