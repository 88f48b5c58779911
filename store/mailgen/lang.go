package mailgen

// lang is one language a message or a sender can have. English is langs[0];
// its text comes from the template grammar in words.go, the others from the
// fixed sentences below, all representable in every charset listed for them.
type lang struct {
	code        string
	sentences   []string // body sentences (empty for English)
	subjects    []string // subjects, each with at least one non-ASCII rune
	greeting    string   // "%s" is the recipient's first name
	signoff     string
	first, last []namePart
	cjk         bool     // Japanese or Chinese: family name first, a sentence per line
	domains     []string // preferred sender domains
	zones       []int    // UTC offsets in minutes
	charsets    []weighted
}

// namePart is a name as displayed and as spelled in an address.
type namePart struct{ display, ascii string }

// weighted is a choice with an integer weight.
type weighted struct {
	value  string
	weight int
}

// Charset names as written in Content-Type and encoded-words.
const (
	csUTF8     = "utf-8"
	csLatin1   = "iso-8859-1"
	csCP1252   = "windows-1252"
	csKOI8R    = "koi8-r"
	csISO2022  = "iso-2022-jp"
	csShiftJIS = "shift_jis"
)

// np builds name parts from display, ascii pairs.
func np(pairs ...string) []namePart {
	out := make([]namePart, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, namePart{pairs[i], pairs[i+1]})
	}
	return out
}

// langs lists the languages; index 0 is English.
var langs = []lang{
	{
		code:     "en",
		greeting: "Hi %s,",
		signoff:  "Thanks,",
		first: np("James", "james", "Mary", "mary", "John", "john", "Patricia", "patricia",
			"Robert", "robert", "Jennifer", "jennifer", "Michael", "michael", "Linda", "linda",
			"David", "david", "Susan", "susan", "Chris", "chris", "Karen", "karen",
			"Daniel", "daniel", "Nancy", "nancy", "Matt", "matt", "Lisa", "lisa",
			"Mark", "mark", "Emily", "emily", "Paul", "paul", "Rachel", "rachel",
			"Kevin", "kevin", "Laura", "laura", "Brian", "brian", "Megan", "megan",
			"Tom", "tom", "Olivia", "olivia", "Sam", "sam", "Priya", "priya",
			"Omar", "omar", "Grace", "grace", "Ethan", "ethan", "Zoe", "zoe"),
		last: np("Smith", "smith", "Johnson", "johnson", "Williams", "williams", "Brown", "brown",
			"Jones", "jones", "Garcia", "garcia", "Miller", "miller", "Davis", "davis",
			"Wilson", "wilson", "Anderson", "anderson", "Taylor", "taylor", "Thomas", "thomas",
			"Moore", "moore", "Jackson", "jackson", "Martin", "martin", "Lee", "lee",
			"Thompson", "thompson", "White", "white", "Harris", "harris", "Clark", "clark",
			"Lewis", "lewis", "Walker", "walker", "Young", "young", "Allen", "allen",
			"O'Brien", "obrien", "Patel", "patel", "Nguyen", "nguyen", "Kim", "kim"),
		domains: []string{"example.com", "example.org", "example.net", "acme.example",
			"globex.example", "initech.test", "hooli.test", "piedpiper.test",
			"umbrella.test", "cyberdyne.test", "stark.example", "wonka.example.org",
			"aperture.test", "mail.example.net"},
		zones:    []int{-8 * 60, -7 * 60, -6 * 60, -5 * 60, -4 * 60, 0, 60, 10 * 60, 330},
		charsets: []weighted{{csUTF8, 88}, {csCP1252, 6}, {csLatin1, 6}},
	},
	{
		code: "de",
		sentences: []string{
			"Vielen Dank für die schnelle Rückmeldung.",
			"Könnten Sie mir bitte die überarbeitete Version bis Freitag schicken?",
			"Die Besprechung wurde auf nächste Woche verschoben.",
			"Ich habe die Änderungen geprüft und bin größtenteils einverstanden.",
			"Im Anhang finden Sie die Übersicht für das dritte Quartal.",
			"Leider können wir den Termin am Montag nicht wahrnehmen.",
			"Bitte beachten Sie die geänderten Öffnungszeiten.",
			"Wir müssen noch über das Budget für das nächste Jahr sprechen.",
			"Das Problem tritt nur auf, wenn der Server neu gestartet wird.",
			"Für Rückfragen stehe ich Ihnen gerne zur Verfügung.",
			"Die Lösung ist noch nicht ganz fertig, aber wir sind auf einem guten Weg.",
			"Können wir morgen früh kurz telefonieren?",
		},
		subjects: []string{"Rückfrage zum Angebot", "Besprechung nächste Woche",
			"Änderungen am Entwurf", "Übersicht drittes Quartal", "Urlaubsplanung für August",
			"Kurze Frage zur Größe der Datei", "Termin für das Gespräch",
			"Geänderte Öffnungszeiten", "Bitte prüfen: Rechnung März", "Grüße aus München"},
		greeting: "Hallo %s,",
		signoff:  "Viele Grüße",
		first: np("Jürgen", "juergen", "Jörg", "joerg", "Bärbel", "baerbel", "Günther", "guenther",
			"Sören", "soeren", "Käthe", "kaethe", "Björn", "bjoern", "Lukas", "lukas",
			"Anja", "anja", "Stefan", "stefan"),
		last: np("Müller", "mueller", "Schröder", "schroeder", "Weiß", "weiss", "Köhler", "koehler",
			"Gößling", "goessling", "Krämer", "kraemer", "Schäfer", "schaefer", "Jäger", "jaeger"),
		domains:  []string{"beispiel.test", "firma.example", "example.org"},
		zones:    []int{60, 120},
		charsets: []weighted{{csUTF8, 50}, {csLatin1, 30}, {csCP1252, 20}},
	},
	{
		code: "fr",
		sentences: []string{
			"Merci beaucoup pour votre réponse rapide.",
			"Pourriez-vous m'envoyer la version révisée avant vendredi ?",
			"La réunion a été déplacée à la semaine prochaine.",
			"J'ai vérifié les modifications et je suis d'accord avec la plupart.",
			"Vous trouverez ci-joint le récapitulatif du troisième trimestre.",
			"Malheureusement, nous ne pourrons pas être présents lundi.",
			"Le problème apparaît seulement après le redémarrage du serveur.",
			"Nous devons encore discuter du budget de l'année prochaine.",
			"N'hésitez pas à me contacter si vous avez des questions.",
			"Le déjeuner d'équipe aura lieu au café près de la gare.",
			"C'est déjà une très bonne première étape, à mon avis.",
			"Je reviens vers vous dès que j'ai plus d'informations.",
		},
		subjects: []string{"Réunion de la semaine prochaine", "Question à propos du devis",
			"Récapitulatif du trimestre", "Modifications du brouillon", "Déjeuner d'équipe vendredi",
			"Problème de connexion au serveur", "Congés d'été", "Mise à jour du calendrier",
			"Facture de février", "Présentation pour le comité"},
		greeting: "Bonjour %s,",
		signoff:  "Bien cordialement,",
		first: np("Hélène", "helene", "François", "francois", "Amélie", "amelie", "Jérôme", "jerome",
			"Gaëlle", "gaelle", "Benoît", "benoit", "Léa", "lea", "Cécile", "cecile",
			"Julien", "julien", "Camille", "camille"),
		last: np("Lefèvre", "lefevre", "Dubois", "dubois", "Girard", "girard", "Leclère", "leclere",
			"Béranger", "beranger", "Moreau", "moreau", "Roché", "roche", "Mercier", "mercier"),
		domains:  []string{"exemple.test", "societe.example", "example.net"},
		zones:    []int{60, 120},
		charsets: []weighted{{csUTF8, 50}, {csLatin1, 30}, {csCP1252, 20}},
	},
	{
		code: "ru",
		sentences: []string{
			"Спасибо за быстрый ответ.",
			"Не могли бы вы прислать исправленную версию до пятницы?",
			"Совещание перенесли на следующую неделю.",
			"Я посмотрел изменения и в целом согласен.",
			"Во вложении отчёт за третий квартал.",
			"К сожалению, в понедельник мы не сможем прийти.",
			"Проблема появляется только после перезапуска сервера.",
			"Нам ещё нужно обсудить бюджет на следующий год.",
			"Если будут вопросы, пишите в любое время.",
			"Хороших выходных и до встречи!",
			"Решение почти готово, осталось только протестировать.",
			"Давайте созвонимся завтра утром и всё обсудим.",
		},
		subjects: []string{"Вопрос по договору", "Встреча на следующей неделе",
			"Изменения в черновике", "Отчёт за квартал", "Проблема с сервером",
			"Планы на отпуск", "Счёт за февраль", "Обновление расписания",
			"Презентация для комитета", "Обед с командой в пятницу"},
		greeting: "Здравствуйте, %s!",
		signoff:  "С уважением,",
		first: np("Дмитрий", "dmitry", "Сергей", "sergey", "Алексей", "alexey", "Иван", "ivan",
			"Михаил", "mikhail", "Андрей", "andrey", "Павел", "pavel", "Николай", "nikolay"),
		last: np("Иванов", "ivanov", "Кузнецов", "kuznetsov", "Попов", "popov", "Соколов", "sokolov",
			"Лебедев", "lebedev", "Новиков", "novikov", "Морозов", "morozov", "Волков", "volkov"),
		domains:  []string{"primer.test", "kompaniya.example"},
		zones:    []int{180, 180, 300, 420},
		charsets: []weighted{{csUTF8, 50}, {csKOI8R, 50}},
	},
	{
		code: "ja",
		sentences: []string{
			"お疲れ様です。",
			"早速のご返信ありがとうございます。",
			"金曜日までに修正版を送っていただけますか。",
			"会議は来週に延期になりました。",
			"変更内容を確認しましたが、概ね問題ありません。",
			"第三四半期の報告書を添付いたします。",
			"申し訳ありませんが、月曜日は参加できません。",
			"サーバーを再起動したときだけ問題が発生します。",
			"来年度の予算についてまだ相談する必要があります。",
			"ご不明な点がございましたら、お気軽にお問い合わせください。",
			"明日の朝、電話で打ち合わせしましょう。",
			"よろしくお願いいたします。",
		},
		subjects: []string{"お見積もりについて", "来週の打ち合わせの件", "資料修正のお願い",
			"第三四半期報告書", "サーバー障害のご報告", "夏季休暇について", "請求書送付のご案内",
			"スケジュール変更のお知らせ", "委員会向け資料", "金曜日の懇親会"},
		greeting: "%sさん",
		signoff:  "以上、よろしくお願いいたします。",
		first: np("太郎", "taro", "花子", "hanako", "健", "ken", "美咲", "misaki",
			"翔太", "shota", "陽子", "yoko", "大輔", "daisuke", "愛", "ai"),
		last: np("田中", "tanaka", "佐藤", "sato", "鈴木", "suzuki", "高橋", "takahashi",
			"渡辺", "watanabe", "伊藤", "ito", "山本", "yamamoto", "中村", "nakamura"),
		cjk:      true,
		domains:  []string{"rei.test", "kaisha.example"},
		zones:    []int{540},
		charsets: []weighted{{csUTF8, 40}, {csISO2022, 40}, {csShiftJIS, 20}},
	},
	{
		code: "zh",
		sentences: []string{
			"谢谢你的快速回复。",
			"请在周五之前把修改后的版本发给我。",
			"会议改到下周了。",
			"我看过这些修改，大体上没有问题。",
			"附件是第三季度的报告。",
			"很抱歉，周一我们无法参加。",
			"只有在服务器重启之后才会出现这个问题。",
			"我们还需要讨论明年的预算。",
			"如果有任何问题，请随时联系我。",
			"祝周末愉快！",
			"方案基本完成了，只剩下测试。",
			"明天上午我们电话沟通一下吧。",
		},
		subjects: []string{"关于报价的问题", "下周的会议", "草稿的修改", "季度报告", "服务器故障",
			"暑假安排", "二月份的发票", "日程更新", "委员会的演示文稿", "周五团队聚餐"},
		greeting: "%s，你好！",
		signoff:  "祝好，",
		first: np("伟", "wei", "芳", "fang", "娜", "na", "敏", "min",
			"静", "jing", "磊", "lei", "洋", "yang", "婷", "ting"),
		last: np("王", "wang", "李", "li", "张", "zhang", "刘", "liu",
			"陈", "chen", "杨", "yang", "赵", "zhao", "黄", "huang"),
		cjk:      true,
		domains:  []string{"lizi.test", "gongsi.example"},
		zones:    []int{480},
		charsets: []weighted{{csUTF8, 100}},
	},
}

// mailingList is a list some threads are posted to.
type mailingList struct {
	name, id, post, tag string
}

// mailingLists are the lists threads can be posted to.
var mailingLists = []mailingList{
	{"Developer discussion", "dev.project.example.org", "dev@project.example.org", "[dev] "},
	{"Announcements", "announce.project.example.org", "announce@project.example.org", ""},
	{"Users helping users", "users.lists.example.net", "users@lists.example.net", "[users] "},
	{"Neighbourhood garden club", "garden.club.example", "garden@club.example", "[garden] "},
	{"Release engineering", "release.initech.test", "release@initech.test", ""},
	{"Book club", "books.lists.example.com", "books@lists.example.com", "[books] "},
}

// robots are automated senders; they send the HTML-only newsletters and
// notifications.
var robots = []struct{ name, addr, subject string }{
	{"Acme Store", "newsletter@shop.acme.example", "This week's deals on {N} and {N}"},
	{"Globex Billing", "billing@globex.example", "Your invoice #{#} is ready"},
	{"Hooli CI", "notifications@ci.hooli.test", "Build #{#} failed on {N}"},
	{"Initech HR", "no-reply@hr.initech.test", "Reminder: {A} {N} training"},
	{"Wonka Travel", "offers@travel.wonka.example.org", "{A} trips to the {N}"},
	{"Example News", "digest@news.example.net", "Daily digest: {A} {N}"},
	{"Piedpiper Cloud", "alerts@cloud.piedpiper.test", "Alert: {N} usage above {#}%"},
	{"Stark Security", "security@stark.example", "New sign-in to your {N} account"},
	{"Aperture Events", "events@aperture.test", "You're invited: {A} {N} {N}"},
	{"Umbrella Surveys", "survey@umbrella.test", "Tell us about your {N}"},
}

// The mailbox owner: the usual recipient.
const (
	ownerName = "Alex Morgan"
	ownerAddr = "alex.morgan@example.com"
)

// mailers are the User-Agent / X-Mailer values seen in headers.
var mailers = []string{
	"User-Agent: Mozilla Thunderbird",
	"X-Mailer: Apple Mail (2.3774)",
	"X-Mailer: Microsoft Outlook 16.0",
	"User-Agent: Mutt/2.2.12 (2023-09-09)",
	"User-Agent: aerc 0.18.2",
	"X-Mailer: Evolution 3.50.2",
	"User-Agent: K-9 Mail for Android",
	"User-Agent: Roundcube Webmail/1.6.6",
}
