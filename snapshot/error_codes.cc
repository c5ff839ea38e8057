#include "snapshot/error_codes.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vmb::snapshot {
namespace {

enum Lang { kEn, kDe, kNl, kSv, kFr, kLangCount };

Lang LangOf(absl::string_view locale) {
  std::string l = absl::AsciiStrToLower(locale.substr(0, 2));
  if (l == "de") return kDe;
  if (l == "nl") return kNl;
  if (l == "sv") return kSv;
  if (l == "fr") return kFr;
  return kEn;
}

struct Entry {
  CodeInfo info;
  const char* text[kLangCount];
};

const std::vector<Entry>& Table() {
  static const auto* table = new std::vector<Entry>{
      {{0, "success_appconsistent", false},
       {"Application-consistent snapshot taken of every disk",
        "Anwendungskonsistente Momentaufnahme aller Datenträger erstellt",
        "Toepassingsconsistente momentopname van alle schijven gemaakt",
        "Programkonsekvent ögonblicksbild av alla diskar tagen",
        "Capture instantanée cohérente des applications prise pour tous les disques"}},
      {{1, "success", false},
       {"Snapshot taken of every disk", "Momentaufnahme aller Datenträger erstellt",
        "Momentopname van alle schijven gemaakt", "Ögonblicksbild av alla diskar tagen",
        "Capture instantanée prise pour tous les disques"}},
      {{2, "error", true},
       {"The snapshot job failed", "Der Momentaufnahmeauftrag ist fehlgeschlagen", "De momentopnametaak is mislukt",
        "Ögonblicksbildjobbet misslyckades", "La tâche de capture instantanée a échoué"}},
      {{3, "SuccessAlreadyProcessedInput", false},
       {"This task was already processed; no new snapshot was taken",
        "Dieser Auftrag wurde bereits verarbeitet; es wurde keine neue Momentaufnahme erstellt",
        "Deze taak is al verwerkt; er is geen nieuwe momentopname gemaakt",
        "Den här uppgiften har redan behandlats; ingen ny ögonblicksbild togs",
        "Cette tâche a déjà été traitée ; aucune nouvelle capture instantanée n'a été prise"}},
      {{4, "ExtensionTempTerminalState", false},
       {"Snapshot in progress", "Momentaufnahme wird erstellt", "Momentopname wordt gemaakt", "Ögonblicksbild pågår",
        "Capture instantanée en cours"}},
      {{11, "error_parameter", true},
       {"Invalid extension settings", "Ungültige Erweiterungseinstellungen", "Ongeldige extensie-instellingen",
        "Ogiltiga tilläggsinställningar", "Paramètres d'extension non valides"}},
      {{13, "error_wrong_time", true},
       {"The VM's clock or the command's start time is wrong",
        "Die Uhr der VM oder die Startzeit des Befehls ist falsch",
        "De klok van de VM of de starttijd van de opdracht is onjuist",
        "Den virtuella datorns klocka eller kommandots starttid är fel",
        "L'horloge de la machine virtuelle ou l'heure de début de la commande est incorrecte"}},
      {{15, "error_http_failure", true},
       {"Could not reach the storage service", "Der Speicherdienst ist nicht erreichbar",
        "De opslagservice is niet bereikbaar", "Det gick inte att nå lagringstjänsten",
        "Impossible de joindre le service de stockage"}},
      {{16, "FailedHandlerGuestAgentCertificateNotFound", true},
       {"The certificate that protects the settings was not found on the VM",
        "Das Zertifikat, das die Einstellungen schützt, wurde auf der VM nicht gefunden",
        "Het certificaat dat de instellingen beveiligt, is niet gevonden op de VM",
        "Certifikatet som skyddar inställningarna hittades inte på den virtuella datorn",
        "Le certificat qui protège les paramètres est introuvable sur la machine virtuelle"}},
      {{76, "FailedRetryableSnapshotFailedNoNetwork", true},
       {"The snapshot failed for every disk", "Die Momentaufnahme ist für alle Datenträger fehlgeschlagen",
        "De momentopname is voor alle schijven mislukt", "Ögonblicksbilden misslyckades för alla diskar",
        "La capture instantanée a échoué pour tous les disques"}},
      {{761, "FailedRetryableSnapshotFailedForSomeBlobs", true},
       {"The snapshot failed for some disks", "Die Momentaufnahme ist für einige Datenträger fehlgeschlagen",
        "De momentopname is voor sommige schijven mislukt", "Ögonblicksbilden misslyckades för vissa diskar",
        "La capture instantanée a échoué pour certains disques"}},
      {{85, "FailedSnapshotLimitReached", true},
       {"A disk has reached the maximum number of snapshots",
        "Ein Datenträger hat die maximale Anzahl von Momentaufnahmen erreicht",
        "Een schijf heeft het maximale aantal momentopnamen bereikt",
        "En disk har nått det högsta antalet ögonblicksbilder",
        "Un disque a atteint le nombre maximal de captures instantanées"}},
      {{173, "FailedRetryableSnapshotRateExceeded", true},
       {"The storage account throttled the snapshot calls",
        "Das Speicherkonto hat die Momentaufnahmeaufrufe gedrosselt",
        "Het opslagaccount heeft de momentopname-aanroepen beperkt",
        "Lagringskontot begränsade anropen för ögonblicksbilder",
        "Le compte de stockage a limité les appels de capture instantanée"}},
      {{121, "FailedFsFreezeFailed", true},
       {"Freezing the file systems failed", "Das Einfrieren der Dateisysteme ist fehlgeschlagen",
        "Het bevriezen van de bestandssystemen is mislukt", "Det gick inte att frysa filsystemen",
        "Le gel des systèmes de fichiers a échoué"}},
      {{122, "FailedFsFreezeTimeout", true},
       {"Freezing the file systems timed out", "Zeitüberschreitung beim Einfrieren der Dateisysteme",
        "Time-out bij het bevriezen van de bestandssystemen", "Tidsgränsen nåddes när filsystemen frystes",
        "Le délai de gel des systèmes de fichiers a expiré"}},
      {{123, "FailedUnableToOpenMount", true},
       {"A mount point could not be opened for freezing",
        "Ein Bereitstellungspunkt konnte zum Einfrieren nicht geöffnet werden",
        "Een koppelpunt kon niet worden geopend om te bevriezen", "En monteringspunkt kunde inte öppnas för frysning",
        "Un point de montage n'a pas pu être ouvert pour le gel"}},
      {{125, "ExtensionFailedVssWriterInBadState", true},
       {"An application's VSS writer is in a failed state; restart the application and retry",
        "Der VSS-Writer einer Anwendung ist in einem fehlerhaften Zustand; starten Sie die Anwendung neu und "
        "versuchen Sie es erneut",
        "De VSS-writer van een toepassing heeft een foutstatus; start de toepassing opnieuw en probeer het opnieuw",
        "En programs VSS-skrivare är i ett felaktigt tillstånd; starta om programmet och försök igen",
        "Le writer VSS d'une application est en échec ; redémarrez l'application et réessayez"}},
      {{126, "ExtensionFailedSnapshotInProgress", true},
       {"Another snapshot is holding the freeze", "Eine andere Momentaufnahme hält das Einfrieren",
        "Een andere momentopname houdt de bevriezing vast", "En annan ögonblicksbild håller frysningen",
        "Une autre capture instantanée maintient le gel"}},
      {{300, "FailedPrepostPreScriptFailed", true},
       {"A pre-script or post-script failed", "Ein Prä- oder Postskript ist fehlgeschlagen",
        "Een pre- of postscript is mislukt", "Ett pre- eller postskript misslyckades",
        "Un pré-script ou post-script a échoué"}},
      {{402, "FailedGuestAgentInvokedCommandTooLate", true},
       {"The guest agent started the snapshot command too late",
        "Der Gast-Agent hat den Momentaufnahmebefehl zu spät gestartet",
        "De gastagent heeft de momentopnameopdracht te laat gestart",
        "Gästagenten startade kommandot för ögonblicksbild för sent",
        "L'agent invité a lancé la commande de capture instantanée trop tard"}},
  };
  return *table;
}

const Entry& EntryFor(int code) {
  if (code >= 300 && code <= 318) code = 300;
  for (const Entry& e : Table()) {
    if (e.info.code == code) return e;
  }
  for (const Entry& e : Table()) {
    if (e.info.code == kError) return e;
  }
  return Table()[0];
}

}  // namespace

absl::Status WithCode(absl::Status status, int code) {
  if (!status.ok()) status.SetPayload("vmbackup/extension-code", absl::Cord(absl::StrCat(code)));
  return status;
}

int CodeOf(const absl::Status& status, int default_code) {
  auto payload = status.GetPayload("vmbackup/extension-code");
  int code = 0;
  if (payload && absl::SimpleAtoi(std::string(*payload), &code)) return code;
  return default_code;
}

const CodeInfo& InfoFor(int code) { return EntryFor(code).info; }

const std::vector<CodeInfo>& AllCodes() {
  static const auto* all = [] {
    auto* v = new std::vector<CodeInfo>();
    for (const Entry& e : Table()) v->push_back(e.info);
    return v;
  }();
  return *all;
}

std::string LocalizedMessage(int code, absl::string_view locale, absl::string_view detail) {
  std::string out = EntryFor(code).text[LangOf(locale)];
  if (!detail.empty()) absl::StrAppend(&out, ": ", detail);
  return out;
}

std::string LangTag(absl::string_view locale) {
  switch (LangOf(locale)) {
    case kDe:
      return "de-DE";
    case kNl:
      return "nl-NL";
    case kSv:
      return "sv-SE";
    case kFr:
      return "fr-FR";
    default:
      return "en-US";
  }
}

}  // namespace vmb::snapshot
