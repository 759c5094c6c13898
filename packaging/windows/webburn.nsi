; The webburn helper's Windows installer: per user, no administrator rights.
; Built on Linux by `cargo xtask windows` (makensis), which defines VERSION,
; HELPER (the release webburn-helper.exe), HELPERW (its windowless twin,
; started at login and from the Start menu), WWW (the built page) and OUTFILE.
;
; It installs into %LOCALAPPDATA%\Programs\webburn: the helper, the page in
; www\ beside it (the helper serves it from there), an uninstaller; starts
; the helper at login through the HKCU Run value that `webburn-helper
; install` also writes; adds a Start menu entry and an "Apps" entry.

; A 64-bit installer, as the helper it carries.
Target amd64-unicode
RequestExecutionLevel user
SetCompressor /SOLID lzma

!define APP "webburn helper"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\webburn"

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\webburn"
ShowInstDetails show

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Section "Install"
  SetOutPath "$INSTDIR"
  File "${HELPER}"
  File "${HELPERW}"
  SetOutPath "$INSTDIR\www"
  File /r "${WWW}\*.*"
  SetOutPath "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  WriteRegStr HKCU "${RUN_KEY}" "webburn-helper" '"$INSTDIR\webburn-helperw.exe" serve'

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "webburn"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\webburn-helper.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1

  CreateShortcut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\webburn-helperw.exe" "serve"
SectionEnd

Section "Uninstall"
  ; The helper's own part first: its certificate authority (key and trust)
  ; and its autostart entry.
  ExecWait '"$INSTDIR\webburn-helper.exe" uninstall'
  DeleteRegValue HKCU "${RUN_KEY}" "webburn-helper"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  Delete "$SMPROGRAMS\${APP}.lnk"
  RMDir /r "$INSTDIR\www"
  Delete "$INSTDIR\webburn-helper.exe"
  Delete "$INSTDIR\webburn-helperw.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
SectionEnd
