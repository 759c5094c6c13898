// Compiled by `cargo xtask test` with `tsc --strict` against the TypeScript
// declarations wasm-bindgen generates: a page written against them type-checks.
import init, {
  DiscFormat2Data,
  DiscMaster2,
  DiscRecorder2,
  DiskImage,
  FileSystemImage,
  FileSystemImageResult,
  FsiDirectoryItem,
  WriteEngine2,
  WriteEngine2EventArgs,
  type ConnectionState,
  type DiscFormat2DataResult,
  type DiscFormat2DataUpdateEvent,
  type DuplicateOutcome,
  type FileSystemImageUpdateEvent,
  type Pairings,
  type ErrorCode,
  type WebburnError,
  type WriteEngine2UpdateEvent,
  hresultName,
  profileErasable,
  profileName,
  profileRewritable,
  profileTakesSessions,
  protocolVersion,
} from "../../target/www/pkg/webburn_web.js";

export async function burn(file: File): Promise<void> {
  await init();
  const master = new DiscMaster2("http://127.0.0.1:47801", true);
  const watches: boolean = master.watchesChanges;
  master.addEventListener("recorderschanged", () => console.log("recorders changed", watches));
  master.addEventListener("statechange", (e: CustomEvent<ConnectionState>) => {
    const s: ConnectionState = e.detail;
    console.log(s, master.state, master.helperVersion ?? "unknown");
  });
  await master.connect();
  const recorders: DiscRecorder2[] = await master.recorders();
  const first: DiscRecorder2 = master.recorder(master.item(0));
  const profiles: number[] = first.currentProfiles;
  const next: number | undefined = first.nextWritableAddress;
  const paths: string[] = first.volumePathNames;
  console.log(recorders.length, master.count, profiles, next, paths, first.vendorId, first.productId);
  // What a burn on the loaded medium uses, and the medium in words.
  const medium: "disc" | "disk" = first.mediumKind;
  const sectorSize: number = first.sectorSize;
  const names: string[] = profiles.map(profileName);
  const ways: boolean[] = profiles.flatMap((p) => [profileTakesSessions(p), profileRewritable(p), profileErasable(p)]);
  console.log(medium, sectorSize, names, ways);

  const engine = new WriteEngine2();
  engine.recorder = first;
  engine.bytesPerSector = 2048;
  engine.startingSectorsPerSecond = -1;
  engine.endingSectorsPerSecond = -1;
  engine.useStreamingWrite12 = true;
  const running: boolean = engine.writeInProgress;
  engine.addEventListener("update", (e: WriteEngine2UpdateEvent) => {
    const args: WriteEngine2EventArgs = e.detail;
    const sum: number = e.startLba + e.sectorCount + e.lastReadLba + e.lastWrittenLba
      + e.totalSystemBuffer + e.usedSystemBuffer + e.freeSystemBuffer + e.elapsedMs
      + e.currentBytesPerSecond + e.driveBufferTotal + e.driveBufferUsed
      + args.driveBufferTotal + args.progress;
    console.log(sum);
  });
  const sectors = Math.ceil(file.size / engine.bytesPerSector);
  try {
    await engine.writeSection(file, next ?? 0, sectors);
    await engine.writeSection(new Uint8Array(2048), 0, 1);
    await engine.writeSection(new ArrayBuffer(2048), 0, 1);
    await engine.writeSection(file.stream(), 0, sectors);
  } catch (err) {
    const e = err as WebburnError;
    const code: ErrorCode | undefined = e.code;
    // The union is the protocol's codes: a misspelt one does not compile.
    const refused: boolean = code === "consentRefused" || code === "diskInUse";
    // @ts-expect-error a code the protocol does not have
    const misspelt: ErrorCode = "consentRefuse";
    console.log(misspelt);
    console.log(e.name, code, refused, e.hresult.toString(16), e.detail, e.sense?.asc, hresultName(e.hresult));
  }
  await engine.cancelWrite();

  const format = new DiscFormat2Data();
  format.recorder = first;
  format.burnVerificationLevel = 2;
  format.setWriteSpeed(first.supportedWriteSpeeds[0] ?? -1);
  format.simulate = first.canSimulate;
  format.ejectWhenDone = true;
  format.addEventListener("update", (e: DiscFormat2DataUpdateEvent) => {
    const t: number = e.currentAction + e.elapsedTime + e.remainingTime + e.totalTime
      + e.writeSpeed + e.lastVerifiedLba + e.verifyBytesPerSecond + e.progress;
    const action: number | undefined = e.detail.currentAction;
    console.log(t, action, format.writeInProgress, format.requestedWriteSpeed, format.supportedWriteSpeeds);
  });
  try {
    const done: DiscFormat2DataResult = await format.write(file);
    console.log(done.sha256, done.verified, done.ejected, done.simulated, done.writeSpeed, done.speedAdjusted);
    await format.write(file.stream(), 16);
  } catch (err) {
    const e = err as WebburnError;
    console.log(e.firstBadLba ?? -1);
  }
  await format.cancelWrite();

  // A compressed disk image, decoded while it is written.
  const image: DiskImage = await DiskImage.open(file);
  const about: string = `${image.format} ${image.size ?? "unknown"} ${image.fileSize} ${image.entryName ?? ""}`;
  const decoded: ReadableStream<Uint8Array> = image.stream();
  console.log(about, decoded.locked);
  const flashed: DiscFormat2DataResult = await format.writeImage(image);
  console.log(flashed.sha256, flashed.partitions ?? []);
  const copies: DuplicateOutcome[] = await format.duplicateImage(image);
  console.log(copies.length);

  // The duplicator: one upload to the recorder and every duplicate at once.
  for (const r of recorders.slice(1)) format.addDuplicateRecorder(r);
  const also: DiscRecorder2[] = format.duplicateRecorders;
  format.addEventListener("update", (e: DiscFormat2DataUpdateEvent) => {
    const which: string = `${e.recorderIndex} ${e.recorderId}`;
    console.log(which);
  });
  const outcomes: DuplicateOutcome[] = await format.duplicate(file);
  for (const o of outcomes) {
    const line: string = o.ok
      ? `${o.recorderIndex} ${o.recorderId} ${o.report?.sha256}`
      : `${o.recorderIndex} ${o.error?.name} ${o.error?.hresult}`;
    console.log(line);
  }
  await format.cancelWrite(1);
  format.clearDuplicateRecorders();
  console.log(also.length);
  const pairings: Pairings = await master.listPairings();
  console.log(running, pairings.pending.map((p) => p.code), protocolVersion());
  master.close();
}

// IMAPI2FS: files and folders laid out as a disc image, burned as a stream.
export async function burnFiles(recorder: DiscRecorder2, files: FileList, photo: File): Promise<string> {
  const fsi = new FileSystemImage();
  fsi.volumeName = "Holiday 2024";
  fsi.fileSystemsToCreate = 7;
  fsi.chooseImageDefaults(recorder);
  const blocks: number = fsi.freeMediaBlocks;
  fsi.addEventListener("update", (e: FileSystemImageUpdateEvent) => {
    const laid: number = e.copiedSectors / e.totalSectors;
    console.log(e.currentFile, e.detail.currentFile, laid);
  });
  const root: FsiDirectoryItem = fsi.root;
  root.addTree(files);
  root.addFile("extra/photo.jpg", photo, photo.lastModified);
  root.addDirectory("empty");
  root.remove("empty");
  const counts: number = fsi.fileCount + fsi.directoryCount + fsi.dataBytes + blocks;
  const result: FileSystemImageResult = fsi.createResultImage();
  const size: number = result.totalBlocks * result.blockSize + counts;
  const format = new DiscFormat2Data();
  format.recorder = recorder;
  const report = await format.write(result.imageStream);
  return `${report.sha256} ${size}`;
}
