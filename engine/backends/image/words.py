"""The words the procedural illustrator understands, per language: elements, colours,
descriptions (the poses' words are in `pose_words`)."""

from __future__ import annotations

ELEMENTS = (
    "underwater", "moon_surface", "dark_clouds", "rainbow", "lightning", "storm", "aurora",
    "space", "planets", "rocket", "fireflies", "kitchen", "bedroom", "classroom", "market",
    "castle", "cave", "garden", "room", "beach", "waves", "sea", "river", "lake", "boat",
    "puddles", "rain", "snow", "fog", "wind", "stars", "sky", "forest", "tree", "hill",
    "mountain", "village", "desert", "spring", "summer", "autumn", "winter",
    "night", "dusk", "dawn", "day",
)
"""Everything a setting can ask for, in the order the words are tried (specific phrases first:
'dark clouds' before the night's 'dark', 'rainbow' before 'rain')."""

TIMES = ("night", "dusk", "dawn", "day")
SUBSTRING_LANGUAGES = frozenset({"de", "zh"})
"""Languages whose words are matched inside longer words (German compounds, Chinese)."""

_EN = {
    "underwater": r"underwater|under the (?:sea|ocean|water|waves)|coral\w*|reefs?|seabed"
                  r"|sea floor|ocean floor",
    "moon_surface": r"surface of the moon|moon'?s surface|moon surface|on the moon|lunar\w*"
                    r"|craters?",
    "dark_clouds": r"(?:dark|grey|gray|black|heavy|storm|thunder) ?clouds?|overcast|cloudy"
                   r"|gloomy",
    "rainbow": r"rainbows?", "lightning": r"lightning|thunderbolts?",
    "storm": r"storm\w*|thunder\w*|tempest\w*|gales?|hurricanes?",
    "aurora": r"auroras?|northern lights|southern lights|polar lights",
    "space": r"(?:outer|deep|in|into|through) space|space ?station|galax\w+|cosmos|universe"
             r"|nebula\w*",
    "planets": r"planets?|saturn|jupiter|mars|venus",
    "rocket": r"rockets?|space ?ships?|spacecraft", "fireflies": r"fireflies|firefly|glow-?worms?",
    "kitchen": r"kitchens?|bakery|stove|oven", "bedroom": r"bedrooms?|beds?|bedtime|nursery",
    "classroom": r"classrooms?|schools?|blackboard|chalkboard|lessons?|teacher",
    "market": r"market ?place|markets?|bazaar|stalls?|funfair|fairground",
    "castle": r"castles?|palace|kingdom|towers?|fortress",
    "cave": r"caves?|cavern\w*|tunnels?|underground|grotto",
    "garden": r"flower ?beds?|gardens?|flowers?|parks?|yard|blossoms?",
    "room": r"living room|rooms?|inside|indoors|attic|library|home",
    "beach": r"beach\w*|sand|sands|sandy|shore|seaside|coast",
    "waves": r"(?:big |huge |giant |high |tall |rolling )?waves?(?! (?:hello|goodbye|bye))|surf"
             r"|breakers",
    "sea": r"seas?|ocean\w*|harbou?r|bay", "river": r"rivers?|streams?|brooks?|creek",
    "lake": r"lakes?|ponds?|pools?", "boat": r"boats?|ships?|sail\w*|canoe|raft|yacht",
    "puddles": r"puddles?|muddy", "rain": r"rain\w*|drizzl\w*|showers?|downpour",
    "snow": r"snow\w*|ice(?! ?cream)|icy|frost\w*|blizzard", "fog": r"fog\w*|mist\w*|haz[ey]",
    "wind": r"wind|winds|windy|breez\w*|blustery|gusts?",
    "stars": r"shooting stars?|stars?|starry|starlit|constellations?",
    "sky": r"above the clouds|sky|skies|clouds?|in the air|high above",
    "forest": r"forests?|woods?|woodland|jungle|pines?|trees", "tree": r"tree|oak|willow",
    "hill": r"hills?|meadows?|fields?|valley|countryside|farm\w*|grass\w*|clearing",
    "mountain": r"mountains?|peaks?|cliffs?", "desert": r"deserts?|dunes?",
    "village": r"villages?|towns?|rooftops?|roofs?|houses|city|streets?|cottages?",
    "spring": r"springtime|spring", "summer": r"summer\w*",
    "autumn": r"autumn\w*|fallen leaves|falling leaves", "winter": r"winter\w*",
    "night": r"night|nights|night-?time|midnight|moonlit|moonlight|dark", "dusk": r"dusk|sunset|evening|twilight",
    "dawn": r"dawn|sunrise|early morning|daybreak",
    "day": r"day|daytime|sunny|sunshine|morning|noon|afternoon",
}
_FR = {
    "underwater": r"sous l'eau|sous la mer|sous l'océan|sous-marin\w*|fonds? marins?|coraux"
                  r"|corail|récifs?",
    "moon_surface": r"surface de la lune|sur la lune|lunaire|cratères?",
    "dark_clouds": r"nuages? (?:sombres?|noirs?|gris|d'orage)|ciel (?:gris|couvert)|nuageux",
    "rainbow": r"arcs?-en-ciel", "lightning": r"éclairs?|foudre",
    "storm": r"orages?|orageu\w+|tempêtes?|tonnerre",
    "aurora": r"aurores? boréales?|aurores? polaires?",
    "space": r"espace|galaxies?|cosmos|univers|nébuleuses?",
    "planets": r"planètes?|saturne|jupiter|mars|vénus",
    "rocket": r"fusées?|vaisseaux? spatia\w+|vaisseau", "fireflies": r"lucioles?|vers luisants?",
    "kitchen": r"cuisines?|boulangerie|four", "bedroom": r"chambres?|lits?|dodo",
    "classroom": r"salle de classe|classes?|écoles?|tableau noir|maîtresse|leçons?",
    "market": r"marchés?|étals?|foire", "castle": r"châteaux?|palais|royaume|tours?",
    "cave": r"grottes?|cavernes?|tunnels?|souterrain\w*",
    "garden": r"jardins?|fleurs?|parcs?|potager",
    "room": r"pièces?|salon|maison|intérieur|grenier|bibliothèque",
    "beach": r"plages?|sable|rivage|côte",
    "waves": r"(?:grosses |grandes |hautes )?vagues?|houle", "sea": r"mers?|océans?|port",
    "river": r"rivières?|fleuves?|ruisseaux?", "lake": r"lacs?|étangs?|mares?",
    "boat": r"bateaux?|navires?|voiliers?|barques?|radeau", "puddles": r"flaques?",
    "rain": r"pluies?|pluvieu\w+|pleut|bruine|averses?", "snow": r"neige\w*|enneigé\w*|glace|givre",
    "fog": r"brouillard|brume\w*", "wind": r"vents?|venteu\w+|brise",
    "stars": r"étoiles?|étoilé\w*|constellations?", "sky": r"ciel|cieux|nuages?|dans les airs",
    "forest": r"forêts?|bois|jungle|sapins?|pins?|arbres", "tree": r"arbre|chêne",
    "hill": r"collines?|prairies?|prés?|champs?|vallée|campagne|ferme|herbe|clairière",
    "mountain": r"montagnes?|sommets?|falaises?|pics?", "desert": r"déserts?|dunes?",
    "village": r"villages?|villes?|toits?|maisons|rues?|cité",
    "spring": r"printemps", "summer": r"été", "autumn": r"automne\w*|feuilles mortes",
    "winter": r"hiver\w*", "night": r"nuits?|nocturne\w*|minuit|clair de lune|sombre\w*",
    "dusk": r"crépuscule|coucher du soleil|soir|soirée", "dawn": r"aube|aurore|lever du soleil",
    "day": r"jour|journée|matin|midi|après-midi|ensoleillé\w*",
}
_ES = {
    "underwater": r"bajo el (?:mar|agua|océano)|submarin\w*|fondo del mar|fondo marino|corales?"
                  r"|arrecif\w*",
    "moon_surface": r"superficie de la luna|en la luna|lunar|cráter|cráteres",
    "dark_clouds": r"nubes (?:oscuras|negras|grises|de tormenta)|nublado|cielo gris",
    "rainbow": r"arco ?iris|arcoíris", "lightning": r"relámpagos?|rayos?",
    "storm": r"tormentas?|tempestad\w*|truenos?", "aurora": r"auroras? (?:boreal|polar)\w*",
    "space": r"espacio|galaxias?|cosmos|universo|nebulosas?",
    "planets": r"planetas?|saturno|júpiter|marte|venus",
    "rocket": r"cohetes?|naves? espacial\w*", "fireflies": r"luciérnagas?",
    "kitchen": r"cocinas?|panadería|horno",
    "bedroom": r"dormitorios?|habitación|cuarto|camas?|alcoba",
    "classroom": r"aulas?|clases?|escuelas?|colegio|pizarra|maestr[ao]",
    "market": r"mercados?|puestos?|feria", "castle": r"castillos?|palacio|reino|torres?",
    "cave": r"cuevas?|cavernas?|túnel\w*|subterráne\w*|gruta",
    "garden": r"jardín|jardines|flores?|parques?|huerto",
    "room": r"salón|casa|dentro|interior|desván|biblioteca",
    "beach": r"playas?|arena|orilla|costa",
    "waves": r"olas? (?:grandes|enormes|gigantes)|olas?|oleaje",
    "sea": r"mar|mares|océanos?|puerto|bahía", "river": r"ríos?|arroyos?",
    "lake": r"lagos?|estanques?|charca", "boat": r"barcos?|barcas?|botes?|veler\w*|navío|balsa",
    "puddles": r"charcos?", "rain": r"lluvi\w*|llueve|llovizna|aguacero",
    "snow": r"niev\w*|nevad\w*|hielo|helad\w*|escarcha", "fog": r"niebla|neblina|bruma",
    "wind": r"viento\w*|brisa", "stars": r"estrellas?|estrellad\w*|constelacion\w*",
    "sky": r"cielo|nubes?|en el aire", "forest": r"bosques?|selva|jungla|pinos?|árboles",
    "tree": r"árbol|roble", "hill": r"colinas?|prados?|campos?|valle|pradera|granja|hierba",
    "mountain": r"montañas?|picos?|cumbres?|acantilados?", "desert": r"desiertos?|dunas?",
    "village": r"pueblos?|aldeas?|ciudad\w*|tejados?|casas|calles?",
    "spring": r"primavera", "summer": r"verano", "autumn": r"otoño\w*", "winter": r"invierno\w*",
    "night": r"noches?|nocturn\w*|medianoche|luz de luna|oscur\w*",
    "dusk": r"atardecer|anochecer|puesta de sol|crepúsculo|tarde",
    "dawn": r"amanecer|alba|madrugada|aurora", "day": r"día|mañana|mediodía|solead[ao]s?",
}
_DE = {
    "underwater": r"unter wasser|unterwasser|meeresgrund|meeresboden|korallen|riff",
    "moon_surface": r"mondoberfläche|auf dem mond|mondlandschaft|krater",
    "dark_clouds": r"(?:dunkle|dunklen|schwarze|graue)n? wolken|gewitterwolke|sturmwolke"
                   r"|bewölkt|wolkenverhangen",
    "rainbow": r"regenbogen", "lightning": r"blitz",
    "storm": r"sturm|stürm|gewitter|unwetter|donner",
    "aurora": r"polarlicht|nordlicht", "space": r"weltall|weltraum|galaxie|kosmos|universum",
    "planets": r"planet|saturn|jupiter|mars\b|venus", "rocket": r"rakete|raumschiff",
    "fireflies": r"glühwürmchen", "kitchen": r"küche|bäckerei",
    "bedroom": r"schlafzimmer|kinderzimmer|bett", "classroom": r"klassenzimmer|schule|tafel|lehrer",
    "market": r"markt", "castle": r"schloss|schlöss|burg|palast|königreich|turm|türm",
    "cave": r"höhle|grotte|tunnel|unterirdisch", "garden": r"garten|gärten|blume|park\b",
    "room": r"zimmer|stube|haus\b|drinnen|dachboden|bibliothek",
    "beach": r"strand|sand\b|küste|ufer", "waves": r"welle|brandung",
    "sea": r"meer|ozean|hafen", "river": r"fluss|flüss|bach\b|bäche",
    "lake": r"see\b|seen\b|teich|weiher",
    "boat": r"boot|schiff|segel|floß", "puddles": r"pfütze", "rain": r"regen|regn",
    "snow": r"schnee|verschneit|eis\b|vereist|frost", "fog": r"nebel|dunst",
    "wind": r"wind|brise|böig",
    "stars": r"stern", "sky": r"himmel|wolke|in der luft",
    "forest": r"wald|wäld|dschungel|tanne|kiefer|bäume", "tree": r"baum\b|eiche",
    "hill": r"hügel|wiese|feld|tal\b|bauernhof|gras|lichtung",
    "mountain": r"berg|gipfel|klippe|felsen",
    "desert": r"wüste|düne", "village": r"dorf|dörf|stadt|städt|dächer|häuser|straße|gasse",
    "spring": r"frühling", "summer": r"sommer", "autumn": r"herbst", "winter": r"winter",
    "night": r"nacht|nächt|mondschein|mondlicht|dunkel", "dusk": r"abend|dämmerung|sonnenuntergang",
    "dawn": r"morgengrauen|sonnenaufgang|morgendämmerung",
    "day": r"tag\b|tags\b|morgen|mittag|sonnig",
}
_ZH = {
    "underwater": r"水下|海底|水底|珊瑚", "moon_surface": r"月球表面|月面|月球上|环形山|陨石坑",
    "dark_clouds": r"乌云|黑云|阴天|阴云|多云", "rainbow": r"彩虹", "lightning": r"闪电|雷电",
    "storm": r"暴风雨|风暴|暴雨|雷雨|雷声|打雷", "aurora": r"极光",
    "space": r"外太空|太空|宇宙(?!飞船)|银河|星系", "planets": r"行星|土星|木星|火星|金星",
    "rocket": r"宇宙飞船|火箭|飞船", "fireflies": r"萤火虫", "kitchen": r"厨房|面包店",
    "bedroom": r"卧室|睡房|被窝|床", "classroom": r"教室|学校|黑板|课堂|老师",
    "market": r"菜市场|市场|集市|摊", "castle": r"城堡|宫殿|王国|塔",
    "cave": r"山洞|洞穴|隧道|洞", "garden": r"花园|公园|园子|花",
    "room": r"房间|屋里|家里|屋子|室内|客厅|图书馆", "beach": r"海滩|沙滩|海边|岸边",
    "waves": r"巨浪|大浪|海浪|波浪|浪", "sea": r"大海|海洋|港口|海", "river": r"小溪|河|江|溪",
    "lake": r"池塘|湖|池", "boat": r"小舟|船|帆", "puddles": r"水坑|水洼", "rain": r"雨",
    "snow": r"雪花|雪|冰|霜", "fog": r"雾", "wind": r"微风|大风|风", "stars": r"星星|星空|繁星|星",
    "sky": r"天空|云|空中", "forest": r"森林|树林|丛林|松树|树木", "tree": r"树",
    "hill": r"小山|山坡|草地|田野|草原|农场|山丘|草", "mountain": r"高山|山峰|悬崖|山",
    "desert": r"沙漠|沙丘", "village": r"村庄|村子|小镇|城市|街道|屋顶|房子|村",
    "spring": r"春天|春", "summer": r"夏天|夏", "autumn": r"秋天|落叶|秋", "winter": r"冬天|冬",
    "night": r"夜晚|夜里|晚上|午夜|月光|黑暗|夜", "dusk": r"黄昏|傍晚|日落|夕阳",
    "dawn": r"黎明|清晨|日出", "day": r"白天|阳光|中午|晴天|早上|早晨",
}
TABLES: dict[str, dict[str, str]] = {"en": _EN, "fr": _FR, "es": _ES, "de": _DE, "zh": _ZH}
"""Element → regular expression of the words that ask for it, per language."""

COLOUR_WORDS: dict[str, dict[str, str]] = {
    "en": {c: c for c in ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
                          "black", "white", "grey", "gray", "silver", "golden", "gold", "violet",
                          "turquoise", "navy", "teal", "crimson", "lilac", "cream")},
    "fr": {"rouges?": "red", "oranges?": "orange", "jaunes?": "yellow", "verte?s?": "green",
           "bleue?s?": "blue", "violette?s?": "purple", "roses?": "pink",
           "marron|brune?s?": "brown",
           "noire?s?": "black", "blanc(?:he)?s?": "white", "grise?s?": "grey",
           "dorée?s?": "golden", "argentée?s?": "silver"},
    "es": {"roj[ao]s?": "red", "naranjas?": "orange", "amarill[ao]s?": "yellow", "verdes?": "green",
           "azul(?:es)?": "blue", "morad[ao]s?|violetas?": "purple", "rosas?": "pink",
           "marrón|marrones": "brown", "negr[ao]s?": "black", "blanc[ao]s?": "white",
           "gris(?:es)?": "grey", "dorad[ao]s?": "golden", "platead[ao]s?": "silver"},
    "de": {r"\brot": "red", "orange": "orange", "gelb": "yellow", "grün": "green", "blau": "blue",
           "lila|violett": "purple", "rosa": "pink", "braun": "brown", "schwarz": "black",
           "weiß|weiss": "white", "grau": "grey", "golden": "golden", "silber": "silver"},
    "zh": {"红色?": "red", "橙色?": "orange", "黄色?": "yellow", "绿色?": "green", "蓝色?": "blue",
           "紫色?": "purple", "粉红?色?": "pink", "棕色?": "brown", "黑色": "black", "白色?": "white",
           "灰色?": "grey", "金色": "golden", "银色?": "silver"},
}
"""A colour word (regular expression) → the English colour name it means, per language."""

DESCRIPTIONS: dict[str, dict[str, str]] = {
    "fr": {"renard(?:eau)?s?": "fox", "lapins?": "rabbit", "chat(?:on|te)?s?": "cat",
           "chiens?|chiots?": "dog", "ours(?:on|onne)?s?": "bear", "souris": "mouse",
           "lion(?:ne)?s?": "lion", "cochons?": "pig", "moutons?|agneaux?": "sheep",
           "hérissons?": "hedgehog", "poissons?": "fish", "baleines?": "whale",
           "dragons?": "dragon", "grenouilles?": "frog", "papillons?": "butterfly",
           "abeilles?": "bee", "robots?": "robot", "hiboux?|chouettes?": "owl",
           "oiseaux?": "bird", "canards?|canetons?": "duck", "pingouins?|manchots?": "penguin",
           "escargots?": "snail", "tortues?": "turtle", "lunes?": "moon", "soleil": "sun",
           "étoiles?": "star", "éléphants?": "elephant", "singes?": "monkey",
           "écureuils?": "squirrel", "fill(?:e|ette)s?": "girl", "princesses?": "princess",
           "reines?": "queen", "grand-mère|mamie": "grandma", "garçons?": "boy",
           "princes?": "prince", "rois?": "king", "grand-père|papi": "grandpa",
           "enfants?": "child", "bébés?": "baby", "bonnet de nuit": "nightcap",
           "chapeaux?": "hat", "casquettes?": "cap", "écharpes?": "scarf", "n(?:oe|œ)uds?": "bow",
           "rubans?": "ribbon", "couronnes?": "crown", "lunettes": "glasses", "capes?": "cape",
           "parapluies?": "umbrella", "sac à dos": "backpack", "sacs?": "bag", "robes?": "dress",
           "chemises?": "shirt", "vestes?": "jacket", "manteaux?": "coat",
           "imperméables?|cirés?": "raincoat", "pulls?": "sweater", "pyjamas?": "pyjamas",
           "jupes?": "skirt", "antennes?": "antenna", "bottes": "boots", "yeux": "eyes",
           "nez": "nose", "cheveux": "hair", "crinières?": "mane", "queues?": "tail",
           "coquilles?|carapaces?": "shell", "ventre": "belly", "ailes?": "wings",
           "oreilles": "ears", "becs?": "beak", "joues": "cheeks", "fourrure": "fur",
           "plumes": "feathers", "peau": "skin", "taches": "spots", "rayures": "stripes",
           "roux|rousses?": "ginger", "petite?s?": "little", "minuscules?": "tiny",
           "grande?s?|gros(?:se)?s?|géante?s?": "big", "claire?s?": "light", "pâles?": "pale",
           "foncée?s?": "dark", "avec|aux?|à": "with", "et": "and"},
    "es": {"zorr[oa]s?": "fox", "conej[oa]s?": "rabbit", "gat[oa]s?|gatitos?": "cat",
           "perr[oa]s?|cachorros?": "dog", "os[oa]s?|osito": "bear", "ratón|ratones": "mouse",
           "leon(?:es|a)?|león": "lion", "cerdos?|cerdito": "pig", "ovejas?|corderos?": "sheep",
           "erizos?": "hedgehog", "pez|peces": "fish", "ballenas?": "whale",
           "dragón|dragones": "dragon", "ranas?|sapos?": "frog", "mariposas?": "butterfly",
           "abejas?": "bee", "robots?": "robot", "búhos?|lechuzas?": "owl",
           "pájaros?|aves?": "bird", "patos?|patitos?": "duck", "pingüinos?": "penguin",
           "caracol(?:es)?": "snail", "tortugas?": "turtle", "lunas?": "moon", "sol": "sun",
           "estrellas?": "star", "elefantes?": "elephant", "monos?": "monkey",
           "ardillas?": "squirrel", "niñas?|chicas?": "girl", "princesas?": "princess",
           "reinas?": "queen", "abuela": "grandma", "niños?|chicos?": "boy",
           "príncipes?": "prince", "rey(?:es)?": "king", "abuelo": "grandpa", "bebés?": "baby",
           "gorro de dormir": "nightcap", "sombreros?": "hat", "gorras?|gorros?": "cap",
           "bufandas?": "scarf", "lazos?|moños?": "bow", "cintas?": "ribbon",
           "coronas?": "crown", "gafas|anteojos": "glasses", "capas?": "cape",
           "paraguas": "umbrella", "mochilas?": "backpack", "bolsos?": "bag",
           "vestidos?": "dress", "camisas?": "shirt", "chaquetas?": "jacket",
           "abrigos?": "coat", "impermeables?": "raincoat", "suéter|jersey": "sweater",
           "pijamas?": "pyjamas", "faldas?": "skirt", "antenas?": "antenna", "botas": "boots",
           "ojos": "eyes", "nariz": "nose", "pelo|cabello": "hair", "melenas?": "mane",
           "colas?": "tail", "caparazón|conchas?": "shell", "barriga|panza": "belly",
           "alas": "wings", "orejas": "ears", "picos?": "beak", "mejillas": "cheeks",
           "pelaje": "fur", "plumas": "feathers", "piel": "skin", "manchas": "spots",
           "rayas": "stripes", "pelirroj[oa]s?": "ginger",
           "pequeñ[oa]s?|chiquit[oa]s?": "little", "diminut[oa]s?": "tiny",
           "grandes?|enormes?|gigantes?": "big", "clar[oa]s?": "light", "pálid[oa]s?": "pale",
           "oscur[oa]s?": "dark", "con": "with", "y": "and"},
    "de": {"füchs|fuchs": "fox", "kaninchen|hase|häschen": "rabbit", "katze|kätzchen|kater": "cat",
           "hund|hünd|welpe": "dog", "bär": "bear", "maus|mäus": "mouse", "löwe": "lion",
           "schwein|ferkel": "pig", "schaf|lamm": "sheep", "igel": "hedgehog", "fisch": "fish",
           r"wal\b": "whale", "drache": "dragon", "frosch|frösch|kröte": "frog",
           "schmetterling": "butterfly", "biene": "bee", "roboter": "robot", "eule": "owl",
           "vogel|vögel": "bird", "ente|küken": "duck", "pinguin": "penguin",
           "schnecke": "snail", "schildkröte": "turtle", "mond": "moon", "sonne": "sun",
           "stern": "star", "elefant": "elephant", "affe": "monkey", "eichhörnchen": "squirrel",
           "mädchen": "girl", "prinzessin": "princess", "königin": "queen",
           "oma|großmutter": "grandma", r"junge\b|jungen\b": "boy", "prinz": "prince",
           "könig": "king", "opa|großvater": "grandpa", "kind": "child", "baby": "baby",
           "schlafmütze|zipfelmütze": "nightcap", "hut|mütze": "hat", "kappe": "cap",
           "schal": "scarf", "schleife": "bow", r"band\b": "ribbon", "krone": "crown",
           "brille": "glasses", "umhang": "cape", "regenschirm": "umbrella",
           "rucksack": "backpack", "tasche": "bag", "regenmantel|regenjacke": "raincoat",
           "kleid": "dress", "hemd": "shirt", "jacke": "jacket", "mantel": "coat",
           "pullover|pulli": "sweater", "schlafanzug|pyjama": "pyjamas", r"rock\b": "skirt",
           "antenne": "antenna", "stiefel|gummistiefel": "boots", "augen": "eyes",
           "nase": "nose", "haare?": "hair", "mähne": "mane", "schwanz": "tail",
           "panzer|schneckenhaus": "shell", "bauch": "belly", "flügel": "wings",
           "ohren": "ears", "schnabel": "beak", "wangen|bäckchen": "cheeks", "fell": "fur",
           "federn": "feathers", "haut": "skin", "punkte|tupfen": "spots", "streifen": "stripes",
           "winzig": "tiny", "klein": "little", "groß|riesig": "big", "hell": "light",
           "blass": "pale", "dunkel": "dark", r"mit\b": "with", r"und\b": "and"},
    "zh": {"猫头鹰": "owl", "蝴蝶结": "bow", "狐狸": "fox", "兔": "rabbit", "猫": "cat",
           "狗": "dog", "熊": "bear", "老鼠|鼠": "mouse", "狮子?": "lion", "猪": "pig",
           "羊": "sheep", "刺猬": "hedgehog", "鲸": "whale", "鱼": "fish", "恐龙": "dinosaur",
           "龙": "dragon", "青蛙|蛙": "frog", "蝴蝶": "butterfly", "蜜蜂|蜂": "bee",
           "机器人": "robot", "鸭": "duck", "企鹅": "penguin", "鸟": "bird", "蜗牛": "snail",
           "乌龟|龟": "turtle", "月亮": "moon", "太阳": "sun", "星星": "star", "大象": "elephant",
           "猴": "monkey", "松鼠": "squirrel", "公主": "princess", "女王": "queen",
           "奶奶|外婆": "grandma", "女孩": "girl", "王子": "prince", "国王": "king",
           "爷爷|外公": "grandpa", "男孩": "boy", "孩子": "child", "宝宝": "baby",
           "睡帽": "nightcap", "帽": "hat", "围巾": "scarf", "丝带": "ribbon", "皇冠|王冠": "crown",
           "眼镜": "glasses", "斗篷": "cape", "伞": "umbrella", "背包|书包": "backpack",
           "雨衣": "raincoat", "裙": "dress", "衬衫": "shirt", "夹克": "jacket", "外套": "coat",
           "毛衣": "sweater", "睡衣": "pyjamas", "天线": "antenna", "靴": "boots",
           "眼睛": "eyes", "鼻子": "nose", "头发": "hair", "尾巴": "tail", "壳": "shell",
           "肚子": "belly", "翅膀": "wings", "耳朵": "ears", "脸颊": "cheeks", "羽毛": "feathers",
           "小": "little", "大": "big", "浅": "light", "深": "dark", "和": "and"},
}
"""A character description's words (regular expression) → the English word the figures know,
per language: kinds, parts, clothes, accessories, sizes, shades. Colours come from COLOUR_WORDS."""

COLOURS_AFTER_NOUN = frozenset({"fr", "es"})
"""Languages that put a colour after the thing it colours ('un bateau rouge')."""

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("a an the and or of in on at to by with under over above below between "
                    "into onto from for its his her their our your my is are was were be "
                    "full little big small very some all round around near through while "
                    "as it he she they them this that there up down out off who everyone illustration "
                    "picture book scene image".split()),
    "fr": frozenset("un une des le la les l d de du et ou à au aux en dans sur sous sous avec "
                    "par pour près son sa ses leur leurs est sont qui que qu il elle ils elles "
                    "petit petite grand grande très tout toute se s n ne pas y font fait".split()),
    "es": frozenset("un una unos unas el la los las lo y o de del al a en con sobre bajo entre "
                    "por para su sus es son que muy pequeño pequeña gran grande se".split()),
    "de": frozenset("ein eine einer einen einem der die das den dem des und oder in im an am "
                    "auf unter über mit von vom zu zum zur bei sein seine ihr ihre ist sind "
                    "klein kleine kleinen groß große großen sehr ganz es er sie".split()),
    "zh": frozenset("的 在 了 一 个 只 和 着 是 上 下 里 中 很 有 把 被 从 向 对 与 也 都 这 那 "
                    "他 她 它 们 小 大 之 地 得".split()),
}
"""Words too small to matter: never listed as not understood."""


def wrap(pattern: str, language: str) -> str:
    """A table's pattern as it matches in text: whole words, or inside words where a language
    writes compounds or no spaces (SUBSTRING_LANGUAGES)."""
    return pattern if language in SUBSTRING_LANGUAGES else rf"(?<!\w)(?:{pattern})(?!\w)"


def language_of(code: str | None) -> str:
    """The table language for a story's language code ('fr-FR' → 'fr'; unknown → 'en')."""
    base = (code or "en").strip().lower().replace("_", "-").split("-")[0]
    return base if base in TABLES else "en"
